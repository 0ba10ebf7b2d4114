//! What Antaeus sends Stripe, form-encoded as its API takes it.
//!
//! A resend under an idempotency key must carry byte-identical parameters (Stripe answers a
//! key reused with other parameters `idempotency_error`), so the body is a function of the
//! charge request alone: a fixed field order, no timestamps, nothing random.

use antaeus_core::{ChargeRequest, RefundRequest};

/// The metadata field that names the invoice on a PaymentIntent.
pub const INVOICE_METADATA: &str = "antaeus_invoice_id";
/// The metadata field that carries the charge key, which the 23-hour lookup searches on.
pub const KEY_METADATA: &str = "antaeus_key";
/// The metadata field that names the deployment (the database) that made the charge.
pub const DEPLOYMENT_METADATA: &str = "antaeus_deployment";
/// The metadata field that names a refund in Antaeus.
pub const REFUND_METADATA: &str = "antaeus_refund_id";

/// The form body of `POST /v1/payment_intents` charging `request` off-session to `customer`
/// with `payment_method` (when `None`, Stripe charges the customer's default source).
pub fn create_intent_body(
    request: &ChargeRequest,
    customer: &str,
    payment_method: Option<&str>,
) -> String {
    let amount = request.invoice.amount;
    let mut fields: Vec<(String, String)> = vec![
        ("amount".into(), amount.to_minor().to_string()),
        (
            "currency".into(),
            amount.currency().as_str().to_ascii_lowercase(),
        ),
        ("customer".into(), customer.to_owned()),
    ];
    if let Some(method) = payment_method {
        fields.push(("payment_method".into(), method.to_owned()));
    }
    fields.extend([
        ("confirm".into(), "true".into()),
        ("off_session".into(), "true".into()),
        (
            format!("metadata[{INVOICE_METADATA}]"),
            request.invoice.id.get().to_string(),
        ),
        (
            format!("metadata[{KEY_METADATA}]"),
            request.key.as_str().to_owned(),
        ),
    ]);
    // A key of the form before namespaces keeps the body it was first sent with.
    if let Some(namespace) = &request.namespace {
        fields.push((
            format!("metadata[{DEPLOYMENT_METADATA}]"),
            namespace.clone(),
        ));
    }
    serde_urlencoded::to_string(&fields).expect("string pairs always encode")
}

/// The form body of `POST /v1/refunds`: `request.amount` of the PaymentIntent it names, with
/// the refund's ids in its metadata. Stripe's own `reason` is sent only when the requester's
/// reason is one of Stripe's; any reason is kept in the metadata.
pub fn create_refund_body(request: &RefundRequest) -> String {
    let mut fields: Vec<(String, String)> = vec![
        ("payment_intent".into(), request.payment_ref.clone()),
        ("amount".into(), request.amount.to_minor().to_string()),
    ];
    if let Some(reason) = request
        .reason
        .as_deref()
        .filter(|r| matches!(*r, "duplicate" | "fraudulent" | "requested_by_customer"))
    {
        fields.push(("reason".into(), reason.to_owned()));
    }
    fields.extend([
        (
            format!("metadata[{INVOICE_METADATA}]"),
            request.invoice.id.get().to_string(),
        ),
        (
            format!("metadata[{REFUND_METADATA}]"),
            request.refund.get().to_string(),
        ),
    ]);
    if let Some(namespace) = &request.namespace {
        fields.push((
            format!("metadata[{DEPLOYMENT_METADATA}]"),
            namespace.clone(),
        ));
    }
    if let Some(reason) = &request.reason {
        fields.push(("metadata[antaeus_reason]".into(), reason.clone()));
    }
    serde_urlencoded::to_string(&fields).expect("string pairs always encode")
}

/// The query string of `GET /v1/payment_intents/search` for the PaymentIntents made under
/// `key` (Stripe's search language; quotes and backslashes in the key escaped).
pub fn search_by_key_query(key: &str) -> String {
    let escaped = key.replace('\\', "\\\\").replace('\'', "\\'");
    let query = format!("metadata['{KEY_METADATA}']:'{escaped}'");
    serde_urlencoded::to_string([("query", query.as_str()), ("limit", "10")])
        .expect("string pairs always encode")
}

#[cfg(test)]
mod tests {
    use antaeus_models::{
        Currency, CustomerId, IdempotencyKey, Invoice, InvoiceId, InvoiceStatus, Money,
    };
    use chrono::Utc;

    use super::*;

    fn request(key: &str) -> ChargeRequest {
        let invoice = Invoice::new(
            InvoiceId::new(17).unwrap(),
            CustomerId::new(3).unwrap(),
            Money::from_minor(12_345, Currency::DKK).unwrap(),
            InvoiceStatus::Pending,
        );
        ChargeRequest::new(invoice, IdempotencyKey::parse(key).unwrap())
    }

    #[test]
    fn the_body_is_minor_units_lowercase_currency_off_session_with_metadata_in_a_fixed_order() {
        assert_eq!(
            create_intent_body(&request("antaeus-17-0"), "cus_1", Some("pm_1")),
            "amount=12345&currency=dkk&customer=cus_1&payment_method=pm_1&confirm=true&off_session=true\
             &metadata%5Bantaeus_invoice_id%5D=17&metadata%5Bantaeus_key%5D=antaeus-17-0"
        );
        assert_eq!(
            create_intent_body(&request("antaeus-17-1"), "cus_1", None),
            "amount=12345&currency=dkk&customer=cus_1&confirm=true&off_session=true\
             &metadata%5Bantaeus_invoice_id%5D=17&metadata%5Bantaeus_key%5D=antaeus-17-1"
        );
    }

    #[test]
    fn a_key_with_a_namespace_names_the_deployment_in_the_metadata() {
        let keyed = ChargeRequest {
            namespace: Some("a1b2c3d4e5f6".into()),
            ..request("antaeus-a1b2c3d4e5f6-17-0")
        };
        assert!(
            create_intent_body(&keyed, "cus_1", None)
                .ends_with("&metadata%5Bantaeus_deployment%5D=a1b2c3d4e5f6"),
        );
    }

    #[test]
    fn a_resend_is_byte_identical_whatever_else_the_request_carries() {
        let first = request("antaeus-17-0");
        let resend = ChargeRequest {
            key_first_sent_at: Some(Utc::now()),
            provider_ref: Some("pi_1".into()),
            open_intent: Some("pi_0".into()),
            ..first.clone()
        };
        assert_eq!(
            create_intent_body(&first, "cus_1", Some("pm_1")),
            create_intent_body(&resend, "cus_1", Some("pm_1"))
        );
    }

    #[test]
    fn the_search_escapes_the_key() {
        assert_eq!(
            search_by_key_query("antaeus-17-0"),
            "query=metadata%5B%27antaeus_key%27%5D%3A%27antaeus-17-0%27&limit=10"
        );
        let odd = search_by_key_query(r"a'b\c");
        let decoded: Vec<(String, String)> = serde_urlencoded::from_str(&odd).unwrap();
        assert_eq!(decoded[0].1, r"metadata['antaeus_key']:'a\'b\\c'");
    }
}
