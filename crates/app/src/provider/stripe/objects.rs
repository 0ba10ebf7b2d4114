//! The parts of Stripe's JSON objects the adapter reads. Everything else is ignored, and
//! fields that older API versions (and stand-ins such as localstripe) shape differently are
//! accepted in each shape: an expandable field is an id or the object itself.

use std::collections::HashMap;

use serde::Deserialize;

/// An expandable reference: the id (current versions), or the whole object (older versions,
/// an `expand[]`, localstripe's `latest_charge`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Expandable {
    /// Just the id.
    Id(String),
    /// The object, of which only the id is read.
    Object {
        /// The object's id.
        id: String,
    },
}

impl Expandable {
    /// The referenced object's id.
    pub fn id(&self) -> &str {
        match self {
            Expandable::Id(id) | Expandable::Object { id } => id,
        }
    }
}

/// A PaymentIntent (`pi_…`).
#[derive(Debug, Clone, Deserialize)]
pub struct PaymentIntent {
    /// `pi_…`: what Antaeus records as the charge id.
    pub id: String,
    /// `payment_intent`, when present.
    #[serde(default)]
    pub object: Option<String>,
    /// `succeeded`, `processing`, `requires_payment_method`, `requires_action`, `canceled`, …
    pub status: String,
    /// The charge the last confirmation made, as an id or an object.
    #[serde(default)]
    pub latest_charge: Option<Expandable>,
    /// Why the last confirmation failed.
    #[serde(default)]
    pub last_payment_error: Option<StripeError>,
    /// Why it was canceled, if it was.
    #[serde(default)]
    pub cancellation_reason: Option<String>,
    /// The amount, in minor units.
    #[serde(default)]
    pub amount: Option<i64>,
    /// The currency, lowercase.
    #[serde(default)]
    pub currency: Option<String>,
    /// What Antaeus recorded with it (`antaeus_invoice_id`, `antaeus_key`,
    /// `antaeus_deployment`).
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

/// The `error` of an error answer, and a PaymentIntent's `last_payment_error`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StripeError {
    /// The PaymentIntent a declined confirmation left (Stripe sends it with a 402).
    #[serde(default)]
    pub payment_intent: Option<IntentRef>,
    /// `card_error`, `invalid_request_error`, `idempotency_error`, `api_error`, …
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// `card_declined`, `resource_missing`, `idempotency_key_in_use`, …
    #[serde(default)]
    pub code: Option<String>,
    /// The issuer's reason for a `card_declined` (`insufficient_funds`, …).
    #[serde(default)]
    pub decline_code: Option<String>,
    /// The parameter the error is about (`customer`, `payment_method`).
    #[serde(default)]
    pub param: Option<String>,
    /// Text for people (never interpreted).
    #[serde(default)]
    pub message: Option<String>,
}

/// A PaymentIntent named in an error: only its id is read.
#[derive(Debug, Clone, Deserialize)]
pub struct IntentRef {
    /// `pi_…`.
    pub id: String,
}

/// A Refund (`re_…`).
#[derive(Debug, Clone, Deserialize)]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// `refund`, when present.
    #[serde(default)]
    pub object: Option<String>,
    /// `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
    #[serde(default)]
    pub status: Option<String>,
    /// Why it failed, if it did.
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// What Antaeus recorded with it (`antaeus_refund_id`, `antaeus_deployment`).
    #[serde(default)]
    pub metadata: HashMap<String, String>,
}

impl StripeError {
    /// The most specific reason: the decline code, else the error code.
    pub fn reason(&self) -> Option<String> {
        self.decline_code.clone().or_else(|| self.code.clone())
    }
}

/// The body of every error answer: `{"error": {…}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: StripeError,
}

/// A search answer (`"object": "search_result"`).
#[derive(Debug, Deserialize)]
pub struct SearchResult {
    /// The PaymentIntents found.
    pub data: Vec<PaymentIntent>,
}

/// A Customer (`cus_…`), for its default payment method.
#[derive(Debug, Deserialize)]
pub struct Customer {
    /// Present and true when the customer was deleted.
    #[serde(default)]
    pub deleted: bool,
    /// What invoices (and Antaeus) charge by default.
    #[serde(default)]
    pub invoice_settings: Option<InvoiceSettings>,
    /// The legacy default card or source.
    #[serde(default)]
    pub default_source: Option<Expandable>,
}

/// A Customer's `invoice_settings`.
#[derive(Debug, Deserialize)]
pub struct InvoiceSettings {
    /// The default PaymentMethod.
    #[serde(default)]
    pub default_payment_method: Option<Expandable>,
}

impl Customer {
    /// The payment method to charge when none is named: `invoice_settings.default_payment_method`,
    /// else the default source.
    pub fn default_method(&self) -> Option<&str> {
        self.invoice_settings
            .as_ref()
            .and_then(|s| s.default_payment_method.as_ref())
            .or(self.default_source.as_ref())
            .map(Expandable::id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latest_charge_is_read_as_an_id_or_an_object() {
        let by_id: PaymentIntent =
            serde_json::from_str(r#"{"id":"pi_1","status":"succeeded","latest_charge":"ch_1"}"#)
                .unwrap();
        let by_object: PaymentIntent = serde_json::from_str(
            r#"{"id":"pi_1","status":"succeeded","latest_charge":{"id":"ch_1","object":"charge","amount":100}}"#,
        )
        .unwrap();
        for intent in [by_id, by_object] {
            assert_eq!(
                intent.latest_charge.as_ref().map(Expandable::id),
                Some("ch_1")
            );
        }
    }

    #[test]
    fn the_default_method_prefers_invoice_settings_over_the_default_source() {
        let both: Customer = serde_json::from_str(
            r#"{"id":"cus_1","invoice_settings":{"default_payment_method":{"id":"pm_1"}},"default_source":"card_1"}"#,
        )
        .unwrap();
        assert_eq!(both.default_method(), Some("pm_1"));
        let source: Customer = serde_json::from_str(
            r#"{"id":"cus_1","invoice_settings":{"default_payment_method":null},"default_source":"card_1"}"#,
        )
        .unwrap();
        assert_eq!(source.default_method(), Some("card_1"));
        let none: Customer = serde_json::from_str(r#"{"id":"cus_1"}"#).unwrap();
        assert_eq!(none.default_method(), None);
    }
}
