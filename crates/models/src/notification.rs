//! Events Antaeus tells the outside world about (the seed's "failure notificator").

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{
    AttemptOutcome, BillingRun, Currency, Dispute, FailureReason, Invoice, InvoiceStatus,
    RefundOrigin, RunCounts, RunStatus, RunTrigger,
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
        /// The provider reported a second payment for an invoice already paid: the customer
        /// was charged twice and must be refunded.
        DoubleCharged = "invoice.double_charged",
        /// Part or all of a paid invoice was refunded.
        Refunded = "invoice.refunded",
        /// The cardholder disputed the invoice's payment (a chargeback).
        Disputed = "invoice.disputed",
        /// A dispute of the invoice's payment was closed (won, lost, …).
        DisputeClosed = "invoice.dispute_closed",
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
    /// The provider's payment the customer is asked to complete (`invoice.payment_action_required`:
    /// bring the customer back to this Stripe PaymentIntent), or the second payment of
    /// `invoice.double_charged`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_intent_id: Option<String>,
    /// What was refunded so far, as an exact decimal string (`invoice.refunded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_amount: Option<Decimal>,
    /// The refund this event is about (`invoice.refunded`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund: Option<RefundEvent>,
    /// The dispute (`invoice.disputed`, `invoice.dispute_closed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<DisputeEvent>,
}

/// A refund, as `invoice.refunded` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundEvent {
    /// The refund's id in Antaeus.
    pub id: i64,
    /// How much, as an exact decimal string.
    pub amount: Decimal,
    /// Why, as the requester said.
    pub reason: Option<String>,
    /// Who asked for it (`api`, `provider`).
    pub origin: RefundOrigin,
    /// The provider's id for it.
    pub provider_ref: Option<String>,
}

/// A dispute, as `invoice.disputed` and `invoice.dispute_closed` report it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeEvent {
    /// The provider's id for it.
    pub id: String,
    /// The provider's status.
    pub status: String,
    /// The cardholder's reason.
    pub reason: String,
    /// The amount disputed, as an exact decimal string.
    pub amount: Decimal,
    /// When evidence is due, while open.
    pub evidence_due_by: Option<DateTime<Utc>>,
}

impl From<&Dispute> for DisputeEvent {
    fn from(d: &Dispute) -> Self {
        Self {
            id: d.id.clone(),
            status: d.status.clone(),
            reason: d.reason.clone(),
            amount: d.amount.value(),
            evidence_due_by: d.evidence_due_by,
        }
    }
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
            payment_intent_id: None,
            refunded_amount: None,
            refund: None,
            dispute: None,
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
