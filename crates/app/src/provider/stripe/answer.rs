//! The answer table: what each answer Stripe (or anything in front of it) gives means for the
//! charge. Every row is either definitive (a [`ChargeDecision`], or a key Stripe refuses) or
//! an unknown outcome resent under the same key; nothing outside the table is ever a decline.
//! The README's "Charging with Stripe" section shows the table; the tests below go row by row.

use antaeus_core::{ChargeDecision, ProviderError};

use super::client::Reply;
use super::objects::{ErrorBody, Expandable, PaymentIntent, SearchResult, StripeError};

/// Error codes of a card that cannot be charged (Stripe sends them as `card_error`; older
/// servers and stand-ins such as localstripe with another type).
const CARD_CODES: &[&str] = &[
    "card_declined",
    "expired_card",
    "incorrect_cvc",
    "incorrect_number",
    "incorrect_zip",
    "insufficient_funds",
    "invalid_cvc",
    "invalid_expiry_month",
    "invalid_expiry_year",
    "invalid_number",
    "processing_error",
    "authentication_required",
];

/// Codes that mean the customer must authenticate (off-session SCA).
const AUTHENTICATION_CODES: &[&str] = &[
    "authentication_required",
    "payment_intent_authentication_failure",
];

/// What the answer to `POST /v1/payment_intents` means.
#[derive(Debug, PartialEq, Eq)]
pub enum Meaning {
    /// Decided, or an unknown outcome (same key).
    Final(Result<ChargeDecision, ProviderError>),
    /// A 404 without an error code, which older Stripe-compatible servers give for a customer
    /// or payment method they do not know: confirmed by retrieving them before the invoice is
    /// failed (a wrong URL answers 404 too).
    MaybeMissing,
}

/// The table for the answer to creating (and confirming) a PaymentIntent.
pub fn create_answer(reply: &Reply) -> Meaning {
    if reply.status == 200 {
        return Meaning::Final(intent_answer(reply));
    }
    let Some(error) = error_of(reply) else {
        return Meaning::Final(Err(unknown(reply, None)));
    };
    let code = error.code.as_deref();
    let kind = error.kind.as_deref();
    match (reply.status, kind, code) {
        (402, _, _)
            if kind == Some("card_error") || code.is_some_and(|c| CARD_CODES.contains(&c)) =>
        {
            Meaning::Final(Ok(declined_by(&error)))
        }
        (400 | 404, _, Some("resource_missing"))
            if matches!(error.param.as_deref(), Some("customer" | "payment_method")) =>
        {
            Meaning::Final(Ok(ChargeDecision::CustomerNotFound))
        }
        (404, Some("invalid_request_error"), None) => Meaning::MaybeMissing,
        (400, Some("idempotency_error"), _) => {
            Meaning::Final(Err(ProviderError::IdempotencyKeyReused))
        }
        _ => Meaning::Final(Err(unknown(reply, Some(&error)))),
    }
}

/// The table for an answer that should carry one PaymentIntent (creating, or retrieving one
/// by id): its status decides.
pub fn intent_answer(reply: &Reply) -> Result<ChargeDecision, ProviderError> {
    if reply.status != 200 {
        return Err(unknown(reply, error_of(reply).as_ref()));
    }
    match serde_json::from_slice::<PaymentIntent>(&reply.body) {
        Ok(intent)
            if intent
                .object
                .as_deref()
                .is_none_or(|o| o == "payment_intent") =>
        {
            from_intent(&intent, reply)
        }
        _ => Err(protocol(reply, "a 200 without a PaymentIntent")),
    }
}

/// The table for a search by key: the PaymentIntents made under it, if any (`Ok(None)`: none,
/// so Stripe has no charge for the key).
pub fn search_answer(reply: &Reply) -> Result<Option<ChargeDecision>, ProviderError> {
    if reply.status != 200 {
        return Err(unknown(reply, error_of(reply).as_ref()));
    }
    let Ok(found) = serde_json::from_slice::<SearchResult>(&reply.body) else {
        return Err(protocol(reply, "a 200 without a search result"));
    };
    // One key makes one PaymentIntent; were there several, a charge that went through (or may
    // still) wins over any that did not, so nothing is charged again.
    let rank = |intent: &PaymentIntent| match intent.status.as_str() {
        "succeeded" => 0,
        "processing" => 1,
        "requires_action" | "requires_payment_method" | "canceled" => 3,
        _ => 2,
    };
    match found.data.iter().min_by_key(|intent| rank(intent)) {
        None => Ok(None),
        Some(intent) => from_intent(intent, reply).map(Some),
    }
}

/// What a PaymentIntent's status says about the charge.
pub fn from_intent(intent: &PaymentIntent, reply: &Reply) -> Result<ChargeDecision, ProviderError> {
    let fallback = |status: &str| StripeError {
        code: Some(status.to_owned()),
        ..StripeError::default()
    };
    match intent.status.as_str() {
        "succeeded" if !intent.id.is_empty() => {
            log::debug!(
                "PaymentIntent {} succeeded (charge {})",
                intent.id,
                intent.latest_charge.as_ref().map_or("-", Expandable::id)
            );
            Ok(ChargeDecision::Charged {
                charge_id: intent.id.clone(),
            })
        }
        "processing" => Err(ProviderError::Processing {
            provider_ref: Some(intent.id.clone()).filter(|id| !id.is_empty()),
        }),
        // Left waiting for the customer: to authenticate, or to give another method.
        status @ ("requires_action" | "requires_payment_method") => {
            let error = intent
                .last_payment_error
                .clone()
                .unwrap_or_else(|| fallback(status));
            Ok(ChargeDecision::Declined {
                code: error.reason(),
                action_required: true,
            })
        }
        "canceled" => Ok(ChargeDecision::Declined {
            code: Some(
                intent
                    .cancellation_reason
                    .clone()
                    .unwrap_or_else(|| "canceled".into()),
            ),
            action_required: false,
        }),
        other => Err(protocol(
            reply,
            &format!(
                "PaymentIntent {} in status {:?}",
                quote(&intent.id),
                quote(other)
            ),
        )),
    }
}

/// A declined card: its decline code (or error code), and whether the customer must act.
fn declined_by(error: &StripeError) -> ChargeDecision {
    let authentication = [error.code.as_deref(), error.decline_code.as_deref()]
        .into_iter()
        .flatten()
        .any(|c| AUTHENTICATION_CODES.contains(&c));
    ChargeDecision::Declined {
        code: error.reason(),
        action_required: authentication,
    }
}

/// An answer that leaves the outcome unknown: the same key is resent, within the run when
/// Stripe (or the status) says a retry may help, by a later run otherwise.
pub fn unknown(reply: &Reply, error: Option<&StripeError>) -> ProviderError {
    let code = error.and_then(|e| e.code.as_deref().or(e.message.as_deref()));
    let retryable = match reply.should_retry {
        Some(said) => said,
        None => matches!(reply.status, 409 | 429 | 500..=599),
    };
    if !retryable {
        let what = match reply.should_retry {
            Some(false) => "Stripe-Should-Retry: false",
            _ => "an answer outside the table",
        };
        let detail = code.map(|c| format!(" {}", quote(c))).unwrap_or_default();
        return protocol(reply, &format!("{}{detail} ({what})", reply.status));
    }
    match reply.status {
        // `idempotency_key_in_use`: a request under the key is still being processed.
        409 => ProviderError::InProgress,
        status => ProviderError::Unavailable {
            status,
            retry_after: reply.retry_after,
        },
    }
}

/// A protocol error naming the Stripe request id, so that it can be looked up in Stripe.
pub fn protocol(reply: &Reply, what: &str) -> ProviderError {
    let request = reply
        .request_id
        .as_deref()
        .map(|id| format!(" (Stripe request {})", quote(id)))
        .unwrap_or_default();
    ProviderError::Protocol(format!("Stripe answered {what}{request}"))
}

/// The `error` of a Stripe-shaped error body, if the body is one.
pub fn error_of(reply: &Reply) -> Option<StripeError> {
    serde_json::from_slice::<ErrorBody>(&reply.body)
        .ok()
        .map(|b| b.error)
}

/// At most 64 characters of provider text, so a hostile answer cannot flood the logs.
fn quote(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
