//! The answer table, row by row (the README's "Charging with Stripe" table).

use std::time::Duration;

use antaeus_core::{ChargeDecision, ProviderError};

use super::*;

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        body: body.as_bytes().to_vec(),
        request_id: Some("req_123".into()),
        ..Reply::default()
    }
}

/// A PaymentIntent of [`expected`]'s charge, in `status`.
fn intent(status: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"pi_1","object":"payment_intent","status":"{status}","amount":1234,"currency":"eur",
        "metadata":{{"antaeus_invoice_id":"17","antaeus_key":"antaeus-a1b2c3d4e5f6-17-0","antaeus_deployment":"a1b2c3d4e5f6"}}{extra}}}"#
    )
}

/// Invoice 17's charge of 12.34 EUR, by deployment `a1b2c3d4e5f6`.
fn expected() -> Expected {
    Expected {
        invoice: 17,
        amount: 1234,
        currency: "eur".into(),
        deployment: Some(Some("a1b2c3d4e5f6".into())),
    }
}

fn decided(r: &Reply) -> Result<ChargeDecision, ProviderError> {
    match create_answer(r, &expected()) {
        Meaning::Final(result) => result,
        other => panic!("{r:?}: {other:?}"),
    }
}

fn declined(code: &str, action_required: bool) -> Result<ChargeDecision, ProviderError> {
    declined_leaving(code, action_required, None)
}

fn declined_leaving(
    code: &str,
    action_required: bool,
    intent: Option<&str>,
) -> Result<ChargeDecision, ProviderError> {
    Ok(ChargeDecision::Declined {
        code: Some(code.into()),
        action_required,
        provider_ref: intent.map(Into::into),
    })
}

fn is_protocol(result: &Result<ChargeDecision, ProviderError>) -> bool {
    matches!(result, Err(ProviderError::Protocol(_)))
}

#[test]
fn succeeded_is_charged_with_the_payment_intent_id_whatever_shape_latest_charge_has() {
    for extra in [
        "",
        r#","latest_charge":"ch_1""#,
        r#","latest_charge":{"id":"ch_1","object":"charge","status":"succeeded"}"#,
    ] {
        let got = decided(&reply(200, &intent("succeeded", extra)));
        assert_eq!(
            got,
            Ok(ChargeDecision::Charged {
                charge_id: "pi_1".into()
            }),
            "{extra}"
        );
    }
}

#[test]
fn processing_is_unknown_with_the_payment_intent_to_ask_about() {
    let got = decided(&reply(200, &intent("processing", "")));
    assert_eq!(
        got,
        Err(ProviderError::Processing {
            provider_ref: Some("pi_1".into())
        })
    );
}

#[test]
fn a_card_error_is_a_decline_with_its_decline_code() {
    let rows = [
        (
            r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds"}}"#,
            "insufficient_funds",
        ),
        (
            r#"{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","payment_intent":{"id":"pi_1","status":"requires_payment_method"}}}"#,
            "generic_decline",
        ),
        (
            r#"{"error":{"type":"card_error","code":"expired_card"}}"#,
            "expired_card",
        ),
        (
            r#"{"error":{"type":"card_error","code":"insufficient_funds"}}"#,
            "insufficient_funds",
        ),
        // localstripe's shape: a card code with the generic type.
        (
            r#"{"error":{"type":"invalid_request_error","code":"card_declined","charge":"ch_1"}}"#,
            "card_declined",
        ),
    ];
    for (body, code) in rows {
        let left = body
            .contains(r#""payment_intent":{"id":"pi_1""#)
            .then_some("pi_1");
        assert_eq!(
            decided(&reply(402, body)),
            declined_leaving(code, false, left),
            "{body}"
        );
    }
}

#[test]
fn authentication_required_and_an_intent_left_waiting_for_the_customer_need_the_customer() {
    let sca = r#"{"error":{"type":"card_error","code":"authentication_required","decline_code":"authentication_required"}}"#;
    assert_eq!(
        decided(&reply(402, sca)),
        declined("authentication_required", true)
    );
    assert_eq!(
        decided(&reply(200, &intent("requires_action", ""))),
        declined_leaving("requires_action", true, Some("pi_1"))
    );
    assert_eq!(
        decided(&reply(200, &intent("requires_payment_method", ""))),
        declined_leaving("requires_payment_method", true, Some("pi_1"))
    );
    // Stripe names the PaymentIntent the customer is to complete.
    let named = r#"{"error":{"type":"card_error","code":"authentication_required","payment_intent":{"id":"pi_9","status":"requires_payment_method"}}}"#;
    assert_eq!(
        decided(&reply(402, named)),
        declined_leaving("authentication_required", true, Some("pi_9"))
    );
    let failed_later = intent(
        "requires_payment_method",
        r#","last_payment_error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds"}"#,
    );
    assert_eq!(
        decided(&reply(200, &failed_later)),
        declined_leaving("insufficient_funds", true, Some("pi_1"))
    );
}

#[test]
fn a_canceled_intent_is_declined() {
    assert_eq!(
        decided(&reply(
            200,
            &intent("canceled", r#","cancellation_reason":"abandoned""#)
        )),
        declined("abandoned", false)
    );
    assert_eq!(
        decided(&reply(200, &intent("canceled", ""))),
        declined("canceled", false)
    );
}

#[test]
fn a_missing_customer_or_payment_method_is_customer_not_found() {
    for param in ["customer", "payment_method"] {
        let body = format!(
            r#"{{"error":{{"type":"invalid_request_error","code":"resource_missing","param":"{param}","message":"No such {param}"}}}}"#
        );
        for status in [400, 404] {
            assert_eq!(
                decided(&reply(status, &body)),
                Ok(ChargeDecision::CustomerNotFound),
                "{status} {param}"
            );
        }
    }
    // Missing, but not the customer's: not a customer not found.
    let other =
        r#"{"error":{"type":"invalid_request_error","code":"resource_missing","param":"mandate"}}"#;
    assert!(is_protocol(&decided(&reply(400, other))));
    // An older server's 404 without a code is confirmed before anything is failed.
    let bare = r#"{"error":{"type":"invalid_request_error","message":"Not Found"}}"#;
    assert_eq!(
        create_answer(&reply(404, bare), &expected()),
        Meaning::MaybeMissing
    );
}

#[test]
fn a_key_in_use_is_resent_and_a_key_reused_with_other_parameters_is_refused() {
    let in_use = r#"{"error":{"type":"invalid_request_error","code":"idempotency_key_in_use"}}"#;
    assert_eq!(decided(&reply(409, in_use)), Err(ProviderError::InProgress));
    let reused = r#"{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters"}}"#;
    assert_eq!(
        create_answer(&reply(400, reused), &expected()),
        Meaning::KeyHeldElsewhere
    );
}

#[test]
fn an_amount_stripe_will_not_charge_fails_the_invoice() {
    for code in ["amount_too_small", "amount_too_large"] {
        let body = format!(r#"{{"error":{{"type":"invalid_request_error","code":"{code}"}}}}"#);
        assert_eq!(
            decided(&reply(400, &body)),
            Ok(ChargeDecision::AmountNotChargeable { code: code.into() })
        );
    }
}

#[test]
fn a_refused_key_stops_the_run_and_names_the_setting_never_the_key() {
    for status in [401, 403] {
        let body = r#"{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_live_****1234"}}"#;
        let Err(ProviderError::Unauthorized(why)) = decided(&reply(status, body)) else {
            panic!("{status}: not a refusal");
        };
        assert!(why.contains("ANTAEUS_STRIPE_SECRET_KEY"), "{why}");
        assert!(why.contains(&status.to_string()), "{why}");
    }
}

#[test]
fn an_intent_of_another_invoice_deployment_or_amount_is_never_this_charge() {
    let ours = intent("succeeded", "");
    for (from, to) in [
        (
            r#""antaeus_invoice_id":"17""#,
            r#""antaeus_invoice_id":"18""#,
        ),
        (
            r#""antaeus_deployment":"a1b2c3d4e5f6""#,
            r#""antaeus_deployment":"ffffffffffff""#,
        ),
        (r#","antaeus_deployment":"a1b2c3d4e5f6""#, ""),
        (r#""amount":1234"#, r#""amount":1000"#),
        (r#""currency":"eur""#, r#""currency":"usd""#),
    ] {
        let theirs = ours.replace(from, to);
        assert_ne!(theirs, ours);
        // Replayed under our key: the key is someone else's.
        assert_eq!(
            decided(&reply(200, &theirs)),
            Err(ProviderError::IdempotencyKeyReused),
            "{to}"
        );
        // Found by a search: ignored.
        let search = format!(r#"{{"object":"search_result","data":[{theirs}]}}"#);
        assert_eq!(
            search_answer(&reply(200, &search), &expected()),
            Ok(None),
            "{to}"
        );
    }
}

#[test]
fn rate_limits_server_errors_and_lost_answers_are_unknown_and_honour_retry_after() {
    let rows = [
        (429, r#"{"error":{"type":"rate_limit_error"}}"#),
        (
            429,
            r#"{"error":{"type":"invalid_request_error","code":"lock_timeout"}}"#,
        ),
        (500, r#"{"error":{"type":"api_error"}}"#),
        (502, "<html>Bad Gateway</html>"),
        (503, ""),
    ];
    for (status, body) in rows {
        for retry_after in [None, Some(Duration::from_secs(2))] {
            let r = Reply {
                retry_after,
                ..reply(status, body)
            };
            assert_eq!(
                decided(&r),
                Err(ProviderError::Unavailable {
                    status,
                    retry_after
                }),
                "{status} {body}"
            );
        }
    }
}

#[test]
fn stripe_should_retry_is_honoured() {
    // A stored 500 that every resend would replay: unknown, but not resent within the run.
    let replayed = Reply {
        should_retry: Some(false),
        ..reply(500, r#"{"error":{"type":"api_error"}}"#)
    };
    let got = decided(&replayed);
    assert!(is_protocol(&got), "{got:?}");
    assert!(
        format!("{got:?}").contains("req_123"),
        "names the request: {got:?}"
    );
    // Stripe says a retry may help: resent under the same key.
    let lock = Reply {
        should_retry: Some(true),
        ..reply(
            400,
            r#"{"error":{"type":"invalid_request_error","code":"lock_timeout"}}"#,
        )
    };
    assert_eq!(
        decided(&lock),
        Err(ProviderError::Unavailable {
            status: 400,
            retry_after: None
        })
    );
    // A definitive answer stays definitive.
    let card = Reply {
        should_retry: Some(true),
        ..reply(
            402,
            r#"{"error":{"type":"card_error","code":"card_declined"}}"#,
        )
    };
    assert_eq!(decided(&card), declined("card_declined", false));
}

#[test]
fn anything_else_is_unknown_never_a_decline() {
    let rows = [
        (402, "<html>Payment Required</html>"),
        (402, ""),
        (
            402,
            r#"{"error":{"type":"invalid_request_error","code":"account_invalid"}}"#,
        ),
        (402, r#"{"message":"declined"}"#),
        (
            400,
            r#"{"error":{"type":"invalid_request_error","code":"parameter_unknown"}}"#,
        ),
        (
            400,
            r#"{"error":{"type":"idempotency_error"}}"#.replace("idempotency_error", "x").leak(),
        ),
        (404, "<html>Not Found</html>"),
        (
            404,
            r#"{"error":{"type":"invalid_request_error","code":"url_invalid"}}"#,
        ),
        (200, "garbage"),
        (200, ""),
        (
            200,
            r#"{"id":"ch_1","object":"charge","status":"succeeded"}"#,
        ),
        (200, &*intent("requires_confirmation", "").leak()),
        (200, &*intent("requires_capture", "").leak()),
        (200, &*intent("teleported", "").leak()),
        (201, &*intent("succeeded", "").leak()),
        (302, ""),
    ];
    for (status, body) in rows {
        let got = decided(&reply(status, body));
        assert!(is_protocol(&got), "{status} {body}: {got:?}");
    }
}

#[test]
fn a_search_takes_the_charge_made_under_the_key() {
    let found = |data: &str| {
        search_answer(
            &reply(
                200,
                &format!(r#"{{"object":"search_result","data":[{data}],"has_more":false}}"#),
            ),
            &expected(),
        )
    };
    assert_eq!(found(""), Ok(None));
    assert_eq!(
        found(&intent("succeeded", "")),
        Ok(Some(ChargeDecision::Charged {
            charge_id: "pi_1".into()
        }))
    );
    let two = format!(
        "{},{}",
        intent("requires_payment_method", "").replace("pi_1", "pi_0"),
        intent("succeeded", "")
    );
    assert_eq!(
        found(&two),
        Ok(Some(ChargeDecision::Charged {
            charge_id: "pi_1".into()
        })),
        "a charge that went through wins"
    );
    assert_eq!(
        found(&intent("processing", "")),
        Err(ProviderError::Processing {
            provider_ref: Some("pi_1".into())
        })
    );
    assert!(matches!(
        search_answer(&reply(500, ""), &expected()),
        Err(ProviderError::Unavailable { status: 500, .. })
    ));
    assert!(is_protocol(
        &search_answer(&reply(200, r#"{"data":"x"}"#), &expected())
            .map(|_| ChargeDecision::CustomerNotFound)
    ));
}
