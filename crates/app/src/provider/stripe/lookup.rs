//! Asking Stripe instead of charging: the PaymentIntent a processing charge left, the charges
//! made under a key older than Stripe remembers (Kill Bill's Janitor is the model), the
//! customer's default payment method, and whether a customer a 404 named is really missing.

use antaeus_core::{ChargeDecision, ProviderError};

use super::answer::{
    Expected, NotOurs, error_of, intent_answer, protocol, read_intent, search_answer, unknown,
};
use super::client::{Reply, StripeClient};
use super::objects::{Customer, PaymentIntent};
use super::request::search_by_key_query;

/// The PaymentIntent `id`, retrieved: what its status says now, if it is `expected`'s (an
/// intent of another invoice, deployment or amount says nothing about this charge).
pub async fn retrieve_intent(
    client: &StripeClient,
    id: &str,
    expected: &Expected,
) -> Result<ChargeDecision, ProviderError> {
    let reply = fetch_intent(client, id).await?;
    intent_answer(&reply, expected).unwrap_or_else(|NotOurs(why)| {
        Err(protocol(
            &reply,
            &format!(
                "PaymentIntent {id} for invoice {}, but {why}",
                expected.invoice
            ),
        ))
    })
}

/// `GET /v1/payment_intents/{id}`, the answer unread.
pub async fn fetch_intent(client: &StripeClient, id: &str) -> Result<Reply, ProviderError> {
    client
        .get(&format!("/v1/payment_intents/{}", segment(id)), None)
        .await
}

/// The PaymentIntent `id` as Stripe has it now.
pub async fn intent(
    client: &StripeClient,
    id: &str,
) -> Result<(PaymentIntent, Reply), ProviderError> {
    let reply = fetch_intent(client, id).await?;
    read_intent(&reply).map(|intent| (intent, reply))
}

/// `POST /v1/payment_intents/{id}/cancel` (cancelling is idempotent by nature: a second cancel
/// of a canceled intent is refused like any other state it cannot leave).
pub async fn cancel_intent(
    client: &StripeClient,
    id: &str,
    key: &str,
) -> Result<Reply, ProviderError> {
    client
        .post_form(
            &format!("/v1/payment_intents/{}/cancel", segment(id)),
            String::new(),
            &format!("{key}-cancel-{id}"),
        )
        .await
}

/// The id of the PaymentIntent `customer`'s charge under `key` made (its metadata names the
/// key), among the customer's latest; `None` when it cannot be told.
pub async fn intent_of_key(client: &StripeClient, customer: &str, key: &str) -> Option<String> {
    let query = serde_urlencoded::to_string([("customer", customer), ("limit", "10")])
        .expect("string pairs always encode");
    let reply = client.get("/v1/payment_intents", Some(&query)).await.ok()?;
    if reply.status != 200 {
        return None;
    }
    let list: super::objects::SearchResult = serde_json::from_slice(&reply.body).ok()?;
    list.data
        .into_iter()
        .find(|i| {
            i.metadata
                .get(super::request::KEY_METADATA)
                .map(String::as_str)
                == Some(key)
        })
        .map(|i| i.id)
}

/// What Stripe made under `key` for `expected`'s charge, found by the `antaeus_key` metadata
/// every PaymentIntent carries: `None` when it made nothing (so the key may be sent again as a
/// new request).
pub async fn search_by_key(
    client: &StripeClient,
    key: &str,
    expected: &Expected,
) -> Result<Option<ChargeDecision>, ProviderError> {
    let query = search_by_key_query(key);
    let reply = client
        .get("/v1/payment_intents/search", Some(&query))
        .await?;
    search_answer(&reply, expected)
}

/// A customer's payment method when Antaeus has none recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum DefaultMethod {
    /// `invoice_settings.default_payment_method`, else the default source.
    Method(String),
    /// The customer has neither.
    NoMethod,
    /// Stripe says the customer does not exist (or was deleted).
    CustomerMissing,
    /// A 404 without an error code: left for the charge's own answer to tell.
    Unclear,
}

/// The default payment method of `customer`.
pub async fn default_method(
    client: &StripeClient,
    customer: &str,
) -> Result<DefaultMethod, ProviderError> {
    let reply = client
        .get(&format!("/v1/customers/{}", segment(customer)), None)
        .await?;
    if reply.status == 200 {
        let Ok(found) = serde_json::from_slice::<Customer>(&reply.body) else {
            return Err(protocol(&reply, "a 200 without a Customer"));
        };
        return Ok(if found.deleted {
            DefaultMethod::CustomerMissing
        } else {
            found
                .default_method()
                .map_or(DefaultMethod::NoMethod, |m| DefaultMethod::Method(m.into()))
        });
    }
    match (reply.status, missing(&reply)) {
        (404, Some(true)) => Ok(DefaultMethod::CustomerMissing),
        (404, Some(false)) => Ok(DefaultMethod::Unclear),
        _ => Err(unknown(&reply, error_of(&reply).as_ref())),
    }
}

/// After a 404 without an error code to a charge: the customer not found if Stripe's customer
/// API answers (so the base URL is right) and says the customer, or the payment method, does
/// not exist; an unknown outcome otherwise.
pub async fn confirm_missing(
    client: &StripeClient,
    create_reply: &Reply,
    customer: &str,
    payment_method: Option<&str>,
) -> Result<ChargeDecision, ProviderError> {
    let list = client.get("/v1/customers", Some("limit=1")).await?;
    if list.status != 200 {
        return Err(protocol(
            create_reply,
            "404 to the charge, and the customer API is not there either",
        ));
    }
    let mut objects = vec![format!("/v1/customers/{}", segment(customer))];
    objects.extend(payment_method.map(|m| format!("/v1/payment_methods/{}", segment(m))));
    for path in objects {
        let reply = client.get(&path, None).await?;
        let deleted = reply.status == 200
            && serde_json::from_slice::<Customer>(&reply.body).is_ok_and(|c| c.deleted);
        if deleted || (reply.status == 404 && missing(&reply).is_some()) {
            return Ok(ChargeDecision::CustomerNotFound);
        }
        if reply.status != 200 {
            return Err(unknown(&reply, error_of(&reply).as_ref()));
        }
    }
    Err(protocol(
        create_reply,
        "404 to the charge, yet its customer and payment method exist",
    ))
}

/// For a 404: `Some(true)` when its Stripe error says `resource_missing`, `Some(false)` for a
/// Stripe error without a code, `None` when the body is not a Stripe error.
fn missing(reply: &Reply) -> Option<bool> {
    let error = error_of(reply)?;
    match error.code.as_deref() {
        Some("resource_missing") => Some(true),
        None if error.kind.as_deref() == Some("invalid_request_error") => Some(false),
        _ => None,
    }
}

/// `id` as one path segment: characters other than letters, digits, `_` and `-` escaped (a
/// dot too, so that no id reads as `..`).
pub fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_one_path_segment() {
        assert_eq!(segment("cus_Abc-12"), "cus_Abc-12");
        assert_eq!(segment("../x?y"), "%2E%2E%2Fx%3Fy");
    }
}
