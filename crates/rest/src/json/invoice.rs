use antaeus_models::{Dispute, FailureReason, Invoice, InvoiceStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::MoneyJson;

/// `{"id":1,"customerId":1,"amount":{…},"status":"PENDING","nextAttemptAt":null,"attempts":0,
/// "failureReason":null,"externalId":null,"dueAt":"…","description":null}`: the original
/// fields first, then the billing fields, then the invoicing ones.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceJson {
    id: i64,
    customer_id: i64,
    amount: MoneyJson,
    /// `PENDING`, `CHARGING`, `PAID`, `FAILED` or `VOID`.
    #[schema(value_type = String, example = "PENDING")]
    status: InvoiceStatus,
    next_attempt_at: Option<DateTime<Utc>>,
    attempts: u32,
    #[schema(value_type = Option<String>, example = "retries_exhausted")]
    failure_reason: Option<FailureReason>,
    /// The SaaS's own id for the invoice (unique per customer).
    #[schema(example = "inv-2026-12-acme-42")]
    external_id: Option<String>,
    /// When it falls due: the first run after it charges it.
    due_at: DateTime<Utc>,
    /// What it is for.
    description: Option<String>,
    /// How much of it was refunded (zero unless refunds succeeded).
    refunded_amount: MoneyJson,
    /// The cardholder's dispute of its payment, or null.
    dispute: Option<DisputeJson>,
    /// Payments the provider reported beyond the one that paid it: more than 0 means the
    /// customer was charged twice and must be refunded (`invoice.double_charged`).
    extra_charges: u32,
}

/// `{"id":"dp_…","status":"needs_response","reason":"fraudulent","amount":{…},
/// "evidenceDueBy":"…"}`: a dispute (chargeback), as the provider reports it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DisputeJson {
    /// The provider's id for it.
    #[schema(example = "dp_1MqLiJLkdIwHu7ix")]
    id: String,
    /// The provider's status: `needs_response`, `under_review`, `won`, `lost`, …
    #[schema(example = "needs_response")]
    status: String,
    /// The cardholder's reason: `fraudulent`, `product_not_received`, …
    #[schema(example = "fraudulent")]
    reason: String,
    /// The amount disputed.
    amount: MoneyJson,
    /// When evidence must reach the provider by, while it is open.
    evidence_due_by: Option<DateTime<Utc>>,
}

impl From<&Dispute> for DisputeJson {
    fn from(d: &Dispute) -> Self {
        Self {
            id: d.id.clone(),
            status: d.status.clone(),
            reason: d.reason.clone(),
            amount: MoneyJson::from(&d.amount),
            evidence_due_by: d.evidence_due_by,
        }
    }
}

impl From<&Invoice> for InvoiceJson {
    fn from(i: &Invoice) -> Self {
        Self {
            id: i.id.get(),
            customer_id: i.customer_id.get(),
            amount: MoneyJson::from(&i.amount),
            status: i.status,
            next_attempt_at: i.next_attempt_at,
            attempts: i.attempts,
            failure_reason: i.failure_reason,
            external_id: i.external_id.as_ref().map(ToString::to_string),
            due_at: i.due_at,
            description: i.description.clone(),
            refunded_amount: MoneyJson::from(&i.refunded),
            dispute: i.dispute.as_deref().map(DisputeJson::from),
            extra_charges: i.extra_charges,
        }
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId, InvoiceId, Money};

    use super::*;

    #[test]
    fn invoice_json_has_the_original_shape_with_exact_amounts() {
        let invoice = Invoice::new(
            InvoiceId::new(1).unwrap(),
            CustomerId::new(1).unwrap(),
            Money::from_minor(12_345, Currency::EUR).unwrap(),
            InvoiceStatus::Pending,
        );
        assert_eq!(
            serde_json::to_string(&InvoiceJson::from(&invoice)).unwrap(),
            r#"{"id":1,"customerId":1,"amount":{"value":123.45,"currency":"EUR"},"status":"PENDING","nextAttemptAt":null,"attempts":0,"failureReason":null,"externalId":null,"dueAt":"1970-01-01T00:00:00Z","description":null,"refundedAmount":{"value":0.00,"currency":"EUR"},"dispute":null,"extraCharges":0}"#
        );
    }

    #[test]
    fn billing_fields_are_added_after_the_original_ones() {
        let mut invoice = Invoice::new(
            InvoiceId::new(2).unwrap(),
            CustomerId::new(1).unwrap(),
            Money::from_minor(100, Currency::GBP).unwrap(),
            InvoiceStatus::Failed,
        );
        invoice.attempts = 5;
        invoice.failure_reason = Some(FailureReason::RetriesExhausted);
        let json = serde_json::to_string(&InvoiceJson::from(&invoice)).unwrap();
        assert!(
            json.contains(r#""status":"FAILED","nextAttemptAt":null,"attempts":5,"failureReason":"retries_exhausted","externalId""#),
            "{json}"
        );
        invoice.status = InvoiceStatus::Pending;
        invoice.failure_reason = None;
        invoice.next_attempt_at = Some(
            DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
                .unwrap()
                .to_utc(),
        );
        let json = serde_json::to_string(&InvoiceJson::from(&invoice)).unwrap();
        assert!(
            json.contains(r#""nextAttemptAt":"2026-12-02T00:00:00Z""#),
            "{json}"
        );
    }
}
