//! A verified body read into a [`WebhookDelivery`]: which Stripe event types Antaeus acts on,
//! what each says happened, and to which payment.
//!
//! The shapes are API version 2024-06-20's (the webhook endpoint's version decides them, not
//! the requests'), and older ones such as localstripe's 2017-08-15 are read as well: an
//! expandable field may be an id or the object, unknown fields are ignored.

use std::collections::HashMap;

use antaeus_core::provider_events::{
    DisputeReport, PaymentChange, PaymentRef, ProviderEvent, ProviderRefund, WebhookDelivery,
    WebhookRejected,
};
use antaeus_models::{Currency, InvoiceId, RefundId};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::super::answer::needs_authentication;
use super::super::objects::PaymentIntent;
use super::super::request::{DEPLOYMENT_METADATA, INVOICE_METADATA, KEY_METADATA, REFUND_METADATA};
use super::objects::{Charge, Dispute, Event, Refund};

/// Reads `body`, a verified delivery, into the event it is, or an ignored one.
pub fn read(body: &[u8]) -> Result<WebhookDelivery, WebhookRejected> {
    let event: Event = serde_json::from_slice(body)
        .map_err(|e| WebhookRejected::Malformed(format!("not a Stripe event: {e}")))?;
    if event.object.as_deref().is_some_and(|o| o != "event") || event.id.is_empty() {
        return Err(WebhookRejected::Malformed(
            "not a Stripe event: its object is not an event, or it has no id".into(),
        ));
    }
    let Some((payment, change)) = interpret(&event.kind, event.data.object)? else {
        return Ok(WebhookDelivery::Ignored {
            id: event.id,
            kind: event.kind,
        });
    };
    Ok(WebhookDelivery::Event(Box::new(ProviderEvent {
        id: event.id,
        kind: event.kind,
        payment,
        change,
    })))
}

/// What an event of type `kind` about `object` says, or `None` for a type Antaeus does not act on.
fn interpret(
    kind: &str,
    object: Value,
) -> Result<Option<(PaymentRef, PaymentChange)>, WebhookRejected> {
    Ok(Some(match kind {
        "payment_intent.succeeded"
        | "payment_intent.processing"
        | "payment_intent.payment_failed"
        | "payment_intent.canceled" => {
            let intent: PaymentIntent = object_of(kind, "payment_intent", object)?;
            (intent_ref(&intent), intent_change(kind, intent))
        }
        "charge.refunded" => charge_refunded(object_of(kind, "charge", object)?),
        "charge.refund.updated" | "refund.created" | "refund.updated" | "refund.failed" => {
            refund_update(object_of(kind, "refund", object)?)
        }
        "charge.dispute.created"
        | "charge.dispute.updated"
        | "charge.dispute.funds_withdrawn"
        | "charge.dispute.funds_reinstated" => {
            let (payment, report) = dispute(object_of(kind, "dispute", object)?);
            (payment, PaymentChange::Disputed(report))
        }
        "charge.dispute.closed" => {
            let (payment, report) = dispute(object_of(kind, "dispute", object)?);
            (payment, PaymentChange::DisputeClosed(report))
        }
        _ => return Ok(None),
    }))
}

/// `object` read as a `name` (Stripe's `object` field, when present, must say so).
fn object_of<T: DeserializeOwned>(
    kind: &str,
    name: &str,
    object: Value,
) -> Result<T, WebhookRejected> {
    let said = object.get("object").and_then(Value::as_str);
    if said.is_some_and(|said| said != name) {
        return Err(WebhookRejected::Malformed(format!(
            "{kind} is about a {}, not a {name}",
            said.unwrap_or_default()
        )));
    }
    serde_json::from_value(object)
        .map_err(|e| WebhookRejected::Malformed(format!("{kind}: not a Stripe {name}: {e}")))
}

/// The payment a PaymentIntent is.
fn intent_ref(intent: &PaymentIntent) -> PaymentRef {
    PaymentRef {
        intent: Some(intent.id.clone()),
        amount_minor: intent.amount,
        currency: currency(intent.currency.as_deref()),
        ..from_metadata(Some(&intent.metadata))
    }
}

/// What a `payment_intent.*` event of type `kind` says happened to `intent`.
fn intent_change(kind: &str, intent: PaymentIntent) -> PaymentChange {
    match kind {
        "payment_intent.succeeded" => PaymentChange::Succeeded,
        "payment_intent.processing" => PaymentChange::Processing,
        "payment_intent.canceled" => PaymentChange::Canceled {
            reason: intent.cancellation_reason,
        },
        _ => {
            let error = intent.last_payment_error.unwrap_or_default();
            PaymentChange::Failed {
                action_required: needs_authentication(&error) || intent.status == "requires_action",
                code: error.reason(),
            }
        }
    }
}

/// The payment a refunded charge is of, and all that is refunded of it now.
fn charge_refunded(charge: Charge) -> (PaymentRef, PaymentChange) {
    let payment = PaymentRef {
        intent: charge.payment_intent.as_ref().map(|i| i.id().to_owned()),
        amount_minor: charge.amount,
        currency: currency(charge.currency.as_deref()),
        ..from_metadata(charge.metadata.as_ref())
    };
    let change = PaymentChange::Refunded {
        total_refunded_minor: charge.amount_refunded,
    };
    (payment, change)
}

/// The payment a refund is of, and the refund as it is now.
fn refund_update(refund: Refund) -> (PaymentRef, PaymentChange) {
    let metadata = refund.metadata.unwrap_or_default();
    let payment = PaymentRef {
        intent: refund.payment_intent.as_ref().map(|i| i.id().to_owned()),
        currency: currency(refund.currency.as_deref()),
        // The refund's amount is not the payment's.
        amount_minor: None,
        ..from_metadata(Some(&metadata))
    };
    let change = PaymentChange::RefundUpdated(ProviderRefund {
        succeeded: matches!(
            refund.status.as_str(),
            "succeeded" | "pending" | "requires_action"
        ),
        antaeus_refund: metadata
            .get(REFUND_METADATA)
            .and_then(|id| id.parse::<RefundId>().ok()),
        id: refund.id,
        amount_minor: refund.amount,
        failure_reason: refund.failure_reason,
    });
    (payment, change)
}

/// The payment a dispute is of, and the dispute as it is now.
fn dispute(dispute: Dispute) -> (PaymentRef, DisputeReport) {
    let payment = PaymentRef {
        intent: dispute.payment_intent.as_ref().map(|i| i.id().to_owned()),
        currency: currency(dispute.currency.as_deref()),
        // A dispute's amount is the amount disputed, not the payment's; nor does it carry
        // the payment's metadata.
        ..PaymentRef::default()
    };
    let report = DisputeReport {
        evidence_due_by: dispute
            .evidence_details
            .and_then(|d| d.due_by)
            // 0: the bank allows no response.
            .filter(|&secs| secs > 0)
            .and_then(|secs| DateTime::<Utc>::from_timestamp(secs, 0)),
        id: dispute.id,
        status: dispute.status,
        reason: dispute.reason,
        amount_minor: dispute.amount,
    };
    (payment, report)
}

/// The invoice, key and deployment Antaeus recorded in `metadata`; what does not parse is
/// left out.
fn from_metadata(metadata: Option<&HashMap<String, String>>) -> PaymentRef {
    let field = |name: &str| {
        metadata
            .and_then(|m| m.get(name))
            .filter(|value| !value.is_empty())
            .cloned()
    };
    PaymentRef {
        invoice: field(INVOICE_METADATA).and_then(|id| id.parse::<InvoiceId>().ok()),
        key: field(KEY_METADATA),
        namespace: field(DEPLOYMENT_METADATA),
        ..PaymentRef::default()
    }
}

/// Stripe's lowercase currency, if Antaeus bills in it.
fn currency(code: Option<&str>) -> Option<Currency> {
    code.and_then(|c| c.to_ascii_uppercase().parse().ok())
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;
