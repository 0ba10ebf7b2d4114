//! Each event type Antaeus acts on, read from a delivery as Stripe sends it for API version
//! 2024-06-20 (`fixtures/`), and the types it does not act on.

use antaeus_core::provider_events::{
    DisputeReport, PaymentChange, PaymentRef, ProviderEvent, ProviderRefund, WebhookDelivery,
};
use antaeus_models::{Currency, InvoiceId, RefundId};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;

const INTENT: &str = "pi_3QRtZ8LkdIwHu7ix1Gm0aQ2b";

/// A fixture's body.
fn fixture(name: &str) -> Value {
    let text = match name {
        "payment_intent_succeeded" => include_str!("fixtures/payment_intent_succeeded.json"),
        "payment_intent_payment_failed" => {
            include_str!("fixtures/payment_intent_payment_failed.json")
        }
        "payment_intent_canceled" => include_str!("fixtures/payment_intent_canceled.json"),
        "charge_refunded" => include_str!("fixtures/charge_refunded.json"),
        "charge_refund_updated" => include_str!("fixtures/charge_refund_updated.json"),
        "charge_dispute_created" => include_str!("fixtures/charge_dispute_created.json"),
        "charge_dispute_closed" => include_str!("fixtures/charge_dispute_closed.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

/// `body` with its type set to `kind` and `changes` made to its object.
fn edited(mut body: Value, kind: &str, changes: Value) -> Value {
    body["type"] = json!(kind);
    for (field, value) in changes.as_object().unwrap() {
        body["data"]["object"][field] = value.clone();
    }
    body
}

/// The event `body` reads as.
fn event(body: &Value) -> ProviderEvent {
    match read(body.to_string().as_bytes()) {
        Ok(WebhookDelivery::Event(event)) => *event,
        other => panic!("{body}: {other:?}"),
    }
}

/// The payment invoice 17's first charge made, as its PaymentIntent names it.
fn invoice_17_payment() -> PaymentRef {
    PaymentRef {
        invoice: Some(InvoiceId::new(17).unwrap()),
        key: Some("antaeus-a1b2c3d4e5f6-17-0".into()),
        namespace: Some("a1b2c3d4e5f6".into()),
        intent: Some(INTENT.into()),
        amount_minor: Some(12_345),
        currency: Some(Currency::EUR),
    }
}

#[test]
fn a_payment_intent_that_succeeded_names_its_invoice_key_deployment_and_amount() {
    assert_eq!(
        event(&fixture("payment_intent_succeeded")),
        ProviderEvent {
            id: "evt_3QRtZ8LkdIwHu7ix1R2yq0sD".into(),
            kind: "payment_intent.succeeded".into(),
            payment: invoice_17_payment(),
            change: PaymentChange::Succeeded,
        }
    );
}

#[test]
fn a_payment_intent_processing_is_processing() {
    let body = edited(
        fixture("payment_intent_succeeded"),
        "payment_intent.processing",
        json!({"status": "processing", "amount_received": 0, "payment_method_types": ["sepa_debit"]}),
    );
    let read = event(&body);
    assert_eq!(read.change, PaymentChange::Processing);
    assert_eq!(read.payment, invoice_17_payment());
}

#[test]
fn a_failed_payment_gives_the_decline_code_and_whether_the_customer_must_act() {
    let failed = fixture("payment_intent_payment_failed");
    let read = event(&failed);
    assert_eq!(read.kind, "payment_intent.payment_failed");
    assert_eq!(read.payment, invoice_17_payment());
    assert_eq!(
        read.change,
        PaymentChange::Failed {
            code: Some("insufficient_funds".into()),
            action_required: false,
        }
    );
    let failure = |status: &str, error: Value| {
        event(&edited(
            failed.clone(),
            "payment_intent.payment_failed",
            json!({"status": status, "last_payment_error": error}),
        ))
        .change
    };
    let failed_with = |code: &str, action_required| PaymentChange::Failed {
        code: Some(code.into()),
        action_required,
    };
    assert_eq!(
        failure(
            "requires_payment_method",
            json!({"type": "card_error", "code": "card_declined", "decline_code": "authentication_required"}),
        ),
        failed_with("authentication_required", true)
    );
    assert_eq!(
        failure(
            "requires_payment_method",
            json!({"type": "invalid_request_error", "code": "payment_intent_authentication_failure"}),
        ),
        failed_with("payment_intent_authentication_failure", true)
    );
    assert_eq!(
        failure(
            "requires_action",
            json!({"type": "card_error", "code": "card_declined", "decline_code": "generic_decline"}),
        ),
        failed_with("generic_decline", true)
    );
    assert_eq!(
        failure("requires_payment_method", Value::Null),
        PaymentChange::Failed {
            code: None,
            action_required: false,
        }
    );
}

#[test]
fn a_canceled_payment_intent_gives_its_reason() {
    let read = event(&fixture("payment_intent_canceled"));
    assert_eq!(read.payment, invoice_17_payment());
    assert_eq!(
        read.change,
        PaymentChange::Canceled {
            reason: Some("abandoned".into()),
        }
    );
}

#[test]
fn a_refunded_charge_gives_the_total_refunded_of_its_payment_intent() {
    let read = event(&fixture("charge_refunded"));
    assert_eq!(read.kind, "charge.refunded");
    assert_eq!(read.payment, invoice_17_payment());
    assert_eq!(
        read.change,
        PaymentChange::Refunded {
            total_refunded_minor: 5_000,
        }
    );
    // Older versions (and an expansion) carry the PaymentIntent as an object.
    let expanded = edited(
        fixture("charge_refunded"),
        "charge.refunded",
        json!({"payment_intent": {"id": INTENT, "object": "payment_intent", "status": "succeeded"}}),
    );
    assert_eq!(event(&expanded).payment.intent.as_deref(), Some(INTENT));
}

#[test]
fn a_refund_update_reads_the_same_under_each_of_its_event_types() {
    let failed = ProviderRefund {
        id: "re_3QRtZ8LkdIwHu7ix1Hs8Lw2p".into(),
        amount_minor: 5_000,
        succeeded: false,
        failure_reason: Some("expired_or_canceled_card".into()),
        antaeus_refund: Some(RefundId::new(4).unwrap()),
    };
    let payment = PaymentRef {
        key: None,
        amount_minor: None,
        ..invoice_17_payment()
    };
    for kind in [
        "charge.refund.updated",
        "refund.created",
        "refund.updated",
        "refund.failed",
    ] {
        let read = event(&edited(fixture("charge_refund_updated"), kind, json!({})));
        assert_eq!(read.kind, kind);
        assert_eq!(read.payment, payment, "{kind}");
        assert_eq!(
            read.change,
            PaymentChange::RefundUpdated(failed.clone()),
            "{kind}"
        );
    }
    for (status, succeeded) in [
        ("pending", true),
        ("requires_action", true),
        ("succeeded", true),
        ("canceled", false),
    ] {
        let body = edited(
            fixture("charge_refund_updated"),
            "charge.refund.updated",
            json!({"status": status, "failure_reason": null}),
        );
        let PaymentChange::RefundUpdated(refund) = event(&body).change else {
            panic!("{status}");
        };
        assert_eq!(refund.succeeded, succeeded, "{status}");
    }
    // A refund made in Stripe's dashboard carries no metadata: only the PaymentIntent names it.
    let dashboard = edited(
        fixture("charge_refund_updated"),
        "refund.created",
        json!({"metadata": {}, "status": "pending", "failure_reason": null}),
    );
    let read = event(&dashboard);
    assert_eq!(read.payment.invoice, None);
    assert_eq!(read.payment.intent.as_deref(), Some(INTENT));
    let PaymentChange::RefundUpdated(refund) = read.change else {
        panic!("{:?}", read.change);
    };
    assert_eq!(refund.antaeus_refund, None);
}

#[test]
fn a_dispute_gives_its_status_reason_amount_and_evidence_deadline() {
    let created = DisputeReport {
        id: "dp_1QRuA2LkdIwHu7ixhT4oV9cM".into(),
        status: "needs_response".into(),
        reason: "fraudulent".into(),
        amount_minor: 12_345,
        // 2025-12-12T23:59:59Z.
        evidence_due_by: DateTime::<Utc>::from_timestamp(1_765_583_999, 0),
    };
    let payment = PaymentRef {
        intent: Some(INTENT.into()),
        currency: Some(Currency::EUR),
        ..PaymentRef::default()
    };
    for kind in [
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    ] {
        let read = event(&edited(fixture("charge_dispute_created"), kind, json!({})));
        assert_eq!(read.payment, payment, "{kind}");
        assert_eq!(
            read.change,
            PaymentChange::Disputed(created.clone()),
            "{kind}"
        );
    }
    let closed = event(&fixture("charge_dispute_closed"));
    assert_eq!(closed.payment, payment);
    assert_eq!(
        closed.change,
        PaymentChange::DisputeClosed(DisputeReport {
            status: "lost".into(),
            evidence_due_by: None,
            ..created
        })
    );
    // Newer versions say 0 when the bank allows no response; older ones may leave it out.
    for details in [json!({"due_by": 0}), json!({}), Value::Null] {
        let body = edited(
            fixture("charge_dispute_created"),
            "charge.dispute.created",
            json!({ "evidence_details": details }),
        );
        let PaymentChange::Disputed(report) = event(&body).change else {
            panic!("{details}");
        };
        assert_eq!(report.evidence_due_by, None, "{details}");
    }
}

#[test]
fn metadata_that_does_not_parse_and_unknown_currencies_are_left_out() {
    let body = edited(
        fixture("payment_intent_succeeded"),
        "payment_intent.succeeded",
        json!({"currency": "jpy", "metadata": {"antaeus_invoice_id": "seventeen"}}),
    );
    let read = event(&body);
    assert_eq!(
        read.payment,
        PaymentRef {
            intent: Some(INTENT.into()),
            amount_minor: Some(12_345),
            ..PaymentRef::default()
        }
    );
    let upper = edited(body, "payment_intent.succeeded", json!({"currency": "DKK"}));
    assert_eq!(event(&upper).payment.currency, Some(Currency::DKK));
}

#[test]
fn other_types_are_ignored_whatever_their_object() {
    for kind in [
        "customer.created",
        "payment_intent.created",
        "charge.succeeded",
    ] {
        let body = edited(fixture("payment_intent_succeeded"), kind, json!({}));
        assert_eq!(
            read(body.to_string().as_bytes()),
            Ok(WebhookDelivery::Ignored {
                id: "evt_3QRtZ8LkdIwHu7ix1R2yq0sD".into(),
                kind: kind.into(),
            })
        );
    }
    let odd = br#"{"id":"evt_9","object":"event","type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}"#;
    assert!(matches!(read(odd), Ok(WebhookDelivery::Ignored { .. })));
}
