//! The JSON shapes of the API, exactly as the original Antaeus served them (camelCase fields,
//! amounts as exact JSON numbers).

use antaeus_models::{Currency, Customer, FailureReason, Invoice, InvoiceStatus, Money};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;

/// `{"value":123.45,"currency":"EUR"}`.
#[derive(Debug, Serialize)]
pub struct MoneyJson {
    /// The decimal written verbatim as a JSON number, so no digit passes through a float.
    value: Box<RawValue>,
    currency: Currency,
}

impl From<&Money> for MoneyJson {
    fn from(money: &Money) -> Self {
        // `Money` keeps exactly the minor-unit digits, so this prints e.g. `10.00`, a valid
        // JSON number (no exponent, no sign).
        let value = RawValue::from_string(money.value().to_string())
            .expect("a non-negative decimal is a valid JSON number");
        Self {
            value,
            currency: money.currency(),
        }
    }
}

/// `{"id":1,"currency":"EUR"}`.
#[derive(Debug, Serialize)]
pub struct CustomerJson {
    id: i64,
    currency: Currency,
}

impl From<&Customer> for CustomerJson {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id.get(),
            currency: c.currency,
        }
    }
}

/// `{"id":1,"customerId":1,"amount":{…},"status":"PENDING","nextAttemptAt":null,"attempts":0,
/// "failureReason":null}`: the original fields first, the billing fields after them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceJson {
    id: i64,
    customer_id: i64,
    amount: MoneyJson,
    status: InvoiceStatus,
    next_attempt_at: Option<DateTime<Utc>>,
    attempts: u32,
    failure_reason: Option<FailureReason>,
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
        }
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{CustomerId, InvoiceId};

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
            r#"{"id":1,"customerId":1,"amount":{"value":123.45,"currency":"EUR"},"status":"PENDING","nextAttemptAt":null,"attempts":0,"failureReason":null}"#
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
            json.ends_with(r#""status":"FAILED","nextAttemptAt":null,"attempts":5,"failureReason":"retries_exhausted"}"#),
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

    #[test]
    fn whole_and_huge_amounts_keep_two_decimals_and_every_digit() {
        let json = |minor| {
            serde_json::to_string(&MoneyJson::from(
                &Money::from_minor(minor, Currency::USD).unwrap(),
            ))
            .unwrap()
        };
        assert_eq!(json(1000), r#"{"value":10.00,"currency":"USD"}"#);
        assert_eq!(json(5), r#"{"value":0.05,"currency":"USD"}"#);
        // Beyond f64's 15-16 significant digits.
        assert_eq!(
            json(i64::MAX),
            r#"{"value":92233720368547758.07,"currency":"USD"}"#
        );
    }
}
