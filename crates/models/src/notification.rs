//! Events Antaeus tells the outside world about (the seed's "failure notificator").

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    AttemptOutcome, BillingRun, Currency, FailureReason, Invoice, InvoiceStatus, RunCounts,
    RunStatus, RunTrigger,
};

string_enum! {
    /// The kinds of event.
    pub enum EventKind ("event type") {
        /// A charge was declined; a dunning retry is scheduled.
        ChargeDeclined = "invoice.charge_declined",
        /// A charge failed permanently (customer not found, currency mismatch, key reused).
        ChargeFailed = "invoice.charge_failed",
        /// The last dunning retry was declined too: the invoice is FAILED.
        RetriesExhausted = "invoice.retries_exhausted",
        /// The invoice was charged: it is PAID (the SaaS marks it paid on its side).
        Paid = "invoice.paid",
        /// The invoice was voided: it will never be charged.
        Voided = "invoice.voided",
        /// The charge needs the customer (authentication, a new payment method): retrying
        /// alone will not help.
        PaymentActionRequired = "invoice.payment_action_required",
        /// A billing run ended.
        RunCompleted = "run.completed",
    }
}

/// One event, as delivered to receivers (the webhook body is this, as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Unique and stable: a receiver that sees an id twice has seen the same event twice.
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// When it happened.
    pub created_at: DateTime<Utc>,
    /// The invoice or run it is about.
    pub data: EventData,
}

/// The subject of an event: an invoice, or a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventData {
    /// For `invoice.*` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice: Option<InvoiceEvent>,
    /// For `run.*` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunEvent>,
}

/// An invoice after the attempt that caused the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceEvent {
    /// The invoice's id.
    pub id: i64,
    /// Its customer's id.
    pub customer_id: i64,
    /// The amount, as an exact decimal string (e.g. `"123.45"`).
    pub amount: Decimal,
    /// The amount's currency.
    pub currency: Currency,
    /// The status the attempt left it in.
    pub status: InvoiceStatus,
    /// Provider calls made for it so far.
    pub attempts: u32,
    /// When it will be tried again, if it will.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why it failed, if it did.
    pub failure_reason: Option<FailureReason>,
    /// The outcome of the attempt, when there was a provider call.
    pub outcome: Option<AttemptOutcome>,
    /// The run during which it happened.
    pub run_id: Option<i64>,
    /// The SaaS's own id for the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The idempotency key of the attempt, when there was a provider call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The provider's reference for the charge (`invoice.paid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charge_id: Option<String>,
    /// The provider's reason for a decline, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decline_code: Option<String>,
}

impl InvoiceEvent {
    /// The event data for `invoice` as it is after an attempt ending in `outcome`.
    pub fn of(invoice: &Invoice, outcome: Option<AttemptOutcome>, run_id: Option<i64>) -> Self {
        Self {
            id: invoice.id.get(),
            customer_id: invoice.customer_id.get(),
            amount: invoice.amount.value(),
            currency: invoice.amount.currency(),
            status: invoice.status,
            attempts: invoice.attempts,
            next_attempt_at: invoice.next_attempt_at,
            failure_reason: invoice.failure_reason,
            outcome,
            run_id,
            external_id: invoice.external_id.as_ref().map(ToString::to_string),
            idempotency_key: None,
            charge_id: None,
            decline_code: None,
        }
    }
}

/// A run, as `run.completed` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunEvent {
    /// The run's id.
    pub id: i64,
    /// Its idempotency key.
    pub idempotency_key: String,
    /// What started it.
    pub trigger: RunTrigger,
    /// How it ended.
    pub status: RunStatus,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it was aborted, if it was.
    pub abort_reason: Option<String>,
    /// What it did.
    pub counts: RunCounts,
}

impl From<&BillingRun> for RunEvent {
    fn from(run: &BillingRun) -> Self {
        Self {
            id: run.id.get(),
            idempotency_key: run.idempotency_key.to_string(),
            trigger: run.trigger,
            status: run.status,
            started_at: run.started_at,
            finished_at: run.finished_at,
            abort_reason: run.abort_reason.clone(),
            counts: run.counts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CustomerId, InvoiceId, Money};

    #[test]
    fn an_invoice_event_serialises_with_exact_amount_and_type() {
        let mut invoice = Invoice::new(
            InvoiceId::new(17).unwrap(),
            CustomerId::new(3).unwrap(),
            Money::from_minor(12_345, Currency::EUR).unwrap(),
            InvoiceStatus::Failed,
        );
        invoice.attempts = 5;
        invoice.failure_reason = Some(FailureReason::RetriesExhausted);
        let event = Notification {
            id: "evt_17_5_retries_exhausted".into(),
            kind: EventKind::RetriesExhausted,
            created_at: DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
                .unwrap()
                .to_utc(),
            data: EventData {
                invoice: Some(InvoiceEvent::of(
                    &invoice,
                    Some(AttemptOutcome::Declined),
                    Some(2),
                )),
                run: None,
            },
        };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "invoice.retries_exhausted");
        assert_eq!(json["data"]["invoice"]["amount"], "123.45");
        assert_eq!(
            json["data"]["invoice"]["failureReason"],
            "retries_exhausted"
        );
        assert_eq!(json["data"]["invoice"]["outcome"], "declined");
        assert!(json["data"].get("run").is_none());
        let back: Notification = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
