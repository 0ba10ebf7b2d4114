//! The JSON shapes of the API, exactly as the original Antaeus served them (camelCase fields,
//! amounts as exact JSON numbers).

use antaeus_models::{Currency, Customer, Invoice, InvoiceStatus, Money};
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

/// `{"id":1,"customerId":1,"amount":{…},"status":"PENDING"}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceJson {
    id: i64,
    customer_id: i64,
    amount: MoneyJson,
    status: InvoiceStatus,
}

impl From<&Invoice> for InvoiceJson {
    fn from(i: &Invoice) -> Self {
        Self {
            id: i.id.get(),
            customer_id: i.customer_id.get(),
            amount: MoneyJson::from(&i.amount),
            status: i.status,
        }
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{CustomerId, InvoiceId};

    use super::*;

    #[test]
    fn invoice_json_has_the_original_shape_with_exact_amounts() {
        let invoice = Invoice {
            id: InvoiceId::new(1).unwrap(),
            customer_id: CustomerId::new(1).unwrap(),
            amount: Money::from_minor(12_345, Currency::EUR).unwrap(),
            status: InvoiceStatus::Pending,
        };
        assert_eq!(
            serde_json::to_string(&InvoiceJson::from(&invoice)).unwrap(),
            r#"{"id":1,"customerId":1,"amount":{"value":123.45,"currency":"EUR"},"status":"PENDING"}"#
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
