//! Refunds through Stripe: `POST /v1/refunds` for the PaymentIntent that paid the invoice,
//! under the refund's own idempotency key, and what each answer means.

use antaeus_core::{ProviderError, RefundDecision, RefundRequest};

use super::answer::{error_of, protocol, quote, unauthorized, unknown};
use super::client::{Reply, StripeClient};
use super::objects::Refund;
use super::request::{DEPLOYMENT_METADATA, REFUND_METADATA, create_refund_body};

/// Codes of a refund Stripe will never make (already refunded, more than is left, disputed).
const REFUSED_CODES: &[&str] = &[
    "charge_already_refunded",
    "charge_disputed",
    "amount_too_large",
    "amount_too_small",
    "refund_disputed_payment",
    "payment_intent_unexpected_state",
];

/// Asks Stripe for `request`'s refund. A refund asked before (its answer lost) is looked for
/// among the PaymentIntent's refunds first: Stripe forgets keys after a day, and a key it has
/// forgotten would refund again.
pub async fn refund(
    client: &StripeClient,
    request: &RefundRequest,
) -> Result<RefundDecision, ProviderError> {
    if request.resend
        && let Some(found) = find(client, request).await?
    {
        return Ok(found);
    }
    let reply = client
        .post_form(
            "/v1/refunds",
            create_refund_body(request),
            request.key.as_str(),
        )
        .await?;
    refund_answer(&reply)
}

/// The refund Stripe made for `request` before, if it made one (its metadata names it).
async fn find(
    client: &StripeClient,
    request: &RefundRequest,
) -> Result<Option<RefundDecision>, ProviderError> {
    let query = serde_urlencoded::to_string([
        ("payment_intent", request.payment_ref.as_str()),
        ("limit", "100"),
    ])
    .expect("string pairs always encode");
    let reply = client.get("/v1/refunds", Some(&query)).await?;
    if let Some(refused) = unauthorized(&reply) {
        return Err(refused);
    }
    if reply.status != 200 {
        return Err(unknown(&reply, error_of(&reply).as_ref()));
    }
    let Ok(list) = serde_json::from_slice::<RefundList>(&reply.body) else {
        return Err(protocol(&reply, "a 200 without a list of refunds"));
    };
    let ours = request.refund.get().to_string();
    let found = list.data.into_iter().find(|r| {
        r.metadata.get(REFUND_METADATA) == Some(&ours)
            && r.metadata.get(DEPLOYMENT_METADATA) == request.namespace.as_ref()
    });
    Ok(found.map(decision))
}

/// What a Refund's status says.
fn decision(refund: Refund) -> RefundDecision {
    match refund.status.as_deref() {
        Some("succeeded" | "pending" | "requires_action") | None => RefundDecision::Refunded {
            refund_ref: refund.id,
        },
        Some(status) => RefundDecision::Refused {
            code: refund.failure_reason.unwrap_or_else(|| quote(status)),
        },
    }
}

/// A list of refunds (`"object": "list"`).
#[derive(Debug, serde::Deserialize)]
struct RefundList {
    data: Vec<Refund>,
}

/// The table for the answer to creating a refund.
pub fn refund_answer(reply: &Reply) -> Result<RefundDecision, ProviderError> {
    if let Some(refused) = unauthorized(reply) {
        return Err(refused);
    }
    if reply.status == 200 {
        let refund = serde_json::from_slice::<Refund>(&reply.body)
            .ok()
            .filter(|r| r.object.as_deref().is_none_or(|o| o == "refund") && !r.id.is_empty());
        let Some(refund) = refund else {
            return Err(protocol(reply, "a 200 without a Refund"));
        };
        return match refund.status.as_deref() {
            // Pending refunds settle later (Stripe's `charge.refund.updated` tells if one fails).
            Some("succeeded" | "pending" | "requires_action") | None => {
                Ok(RefundDecision::Refunded {
                    refund_ref: refund.id,
                })
            }
            Some(status) => Ok(RefundDecision::Refused {
                code: refund.failure_reason.unwrap_or_else(|| quote(status)),
            }),
        };
    }
    let error = error_of(reply);
    match (reply.status, error.as_ref()) {
        (400, Some(e)) if e.kind.as_deref() == Some("idempotency_error") => {
            Err(ProviderError::IdempotencyKeyReused)
        }
        (400 | 402, Some(e))
            if e.code
                .as_deref()
                .is_some_and(|c| REFUSED_CODES.contains(&c)) =>
        {
            Ok(RefundDecision::Refused {
                code: e.code.clone().unwrap_or_default(),
            })
        }
        _ => Err(unknown(reply, error.as_ref())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.as_bytes().to_vec(),
            ..Reply::default()
        }
    }

    #[test]
    fn each_refund_answer_has_one_meaning() {
        for status in ["succeeded", "pending"] {
            let body = format!(r#"{{"id":"re_1","object":"refund","status":"{status}"}}"#);
            assert_eq!(
                refund_answer(&reply(200, &body)),
                Ok(RefundDecision::Refunded {
                    refund_ref: "re_1".into()
                })
            );
        }
        assert_eq!(
            refund_answer(&reply(
                200,
                r#"{"id":"re_1","object":"refund","status":"failed","failure_reason":"expired_or_canceled_card"}"#
            )),
            Ok(RefundDecision::Refused {
                code: "expired_or_canceled_card".into()
            })
        );
        assert_eq!(
            refund_answer(&reply(
                400,
                r#"{"error":{"type":"invalid_request_error","code":"charge_already_refunded"}}"#
            )),
            Ok(RefundDecision::Refused {
                code: "charge_already_refunded".into()
            })
        );
        assert_eq!(
            refund_answer(&reply(400, r#"{"error":{"type":"idempotency_error"}}"#)),
            Err(ProviderError::IdempotencyKeyReused)
        );
        assert!(matches!(
            refund_answer(&reply(401, "")),
            Err(ProviderError::Unauthorized(_))
        ));
        assert!(matches!(
            refund_answer(&reply(500, "")),
            Err(ProviderError::Unavailable { status: 500, .. })
        ));
        for (status, body) in [
            (200, "garbage"),
            (200, r#"{"id":"pi_1","object":"payment_intent"}"#),
            (
                400,
                r#"{"error":{"type":"invalid_request_error","code":"parameter_unknown"}}"#,
            ),
        ] {
            assert!(
                matches!(
                    refund_answer(&reply(status, body)),
                    Err(ProviderError::Protocol(_))
                ),
                "{status} {body}"
            );
        }
    }
}
