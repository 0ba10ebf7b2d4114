//! The answer table: what each answer Stripe (or anything in front of it) gives means for the
//! charge. Every row is either definitive (a [`ChargeDecision`], or a key Stripe refuses) or
//! an unknown outcome resent under the same key; nothing outside the table is ever a decline.
//! A PaymentIntent counts only when it is this charge's: its invoice, deployment, amount and
//! currency are the request's ([`Expected`]). The README's "Charging with Stripe" section shows
//! the table; the tests go row by row.

use antaeus_core::{ChargeDecision, ChargeRequest, ProviderError};

use super::client::Reply;
use super::objects::{ErrorBody, Expandable, PaymentIntent, SearchResult, StripeError};
use super::request::{DEPLOYMENT_METADATA, INVOICE_METADATA};

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

/// Codes of an amount Stripe will not charge at all, whatever the key.
const AMOUNT_CODES: &[&str] = &["amount_too_small", "amount_too_large"];

/// What a PaymentIntent must carry to be this charge's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The invoice (`metadata[antaeus_invoice_id]`).
    pub invoice: i64,
    /// The amount, in minor units.
    pub amount: i64,
    /// The currency, lowercase.
    pub currency: String,
    /// The deployment (`metadata[antaeus_deployment]`): `Some(None)` for a key of the form
    /// before namespaces (none recorded), `None` when any is accepted (a payment Antaeus
    /// recorded itself, whatever key made it).
    pub deployment: Option<Option<String>>,
}

impl Expected {
    /// What an intent made for `request` carries.
    pub fn of(request: &ChargeRequest) -> Self {
        Self {
            deployment: Some(request.namespace.clone()),
            ..Self::for_invoice(&request.invoice)
        }
    }

    /// What any intent made for `invoice` carries, whichever key made it.
    pub fn for_invoice(invoice: &antaeus_models::Invoice) -> Self {
        Self {
            invoice: invoice.id.get(),
            amount: invoice.amount.to_minor(),
            currency: invoice.amount.currency().as_str().to_ascii_lowercase(),
            deployment: None,
        }
    }

    /// Why `intent` is not this charge's, or `None` when it is.
    pub fn mismatch(&self, intent: &PaymentIntent) -> Option<String> {
        let invoice = intent.metadata.get(INVOICE_METADATA);
        if invoice.map(String::as_str) != Some(self.invoice.to_string().as_str()) {
            return Some(format!("it is for invoice {}", shown(invoice)));
        }
        if intent.amount.is_some_and(|a| a != self.amount) {
            return Some(format!("its amount is {:?}", intent.amount));
        }
        if intent
            .currency
            .as_deref()
            .is_some_and(|c| !c.eq_ignore_ascii_case(&self.currency))
        {
            return Some(format!(
                "its currency is {}",
                shown(intent.currency.as_ref())
            ));
        }
        if let Some(deployment) = &self.deployment {
            let theirs = intent.metadata.get(DEPLOYMENT_METADATA);
            if theirs != deployment.as_ref() {
                return Some(format!("it was made by deployment {}", shown(theirs)));
            }
        }
        None
    }
}

/// An optional text from Stripe, for a message.
fn shown(text: Option<&String>) -> String {
    text.map_or_else(|| "(none)".to_owned(), |t| quote(t))
}

/// What the answer to `POST /v1/payment_intents` means.
#[derive(Debug, PartialEq, Eq)]
pub enum Meaning {
    /// Decided, or an unknown outcome (same key).
    Final(Result<ChargeDecision, ProviderError>),
    /// A 404 without an error code, which older Stripe-compatible servers give for a customer
    /// or payment method they do not know: confirmed by retrieving them before the invoice is
    /// failed (a wrong URL answers 404 too).
    MaybeMissing,
    /// `idempotency_error`: Stripe holds the key with other parameters. For a key sent before,
    /// what it made under the key is looked up; for a key never sent, it is another's.
    KeyHeldElsewhere,
}

/// The table for the answer to creating (and confirming) a PaymentIntent.
pub fn create_answer(reply: &Reply, expected: &Expected) -> Meaning {
    if reply.status == 200 {
        return Meaning::Final(match intent_answer(reply, expected) {
            // A replay of another charge's PaymentIntent under our key: the key is not ours
            // to use, and this answer says nothing about our charge.
            Err(NotOurs(why)) => {
                log::error!(
                    "Stripe answered invoice {} with a PaymentIntent that is not its charge ({why})",
                    expected.invoice
                );
                Err(ProviderError::IdempotencyKeyReused)
            }
            Ok(result) => result,
        });
    }
    if let Some(refused) = unauthorized(reply) {
        return Meaning::Final(Err(refused));
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
        (400, Some("invalid_request_error"), Some(code)) if AMOUNT_CODES.contains(&code) => {
            Meaning::Final(Ok(ChargeDecision::AmountNotChargeable {
                code: code.to_owned(),
            }))
        }
        (404, Some("invalid_request_error"), None) => Meaning::MaybeMissing,
        (400, Some("idempotency_error"), _) => Meaning::KeyHeldElsewhere,
        _ => Meaning::Final(Err(unknown(reply, Some(&error)))),
    }
}

/// An intent that is not the expected charge's, and why.
#[derive(Debug, PartialEq, Eq)]
pub struct NotOurs(pub String);

/// The table for an answer that should carry one PaymentIntent (creating, or retrieving one
/// by id): its status decides, once it is known to be `expected`'s.
pub fn intent_answer(
    reply: &Reply,
    expected: &Expected,
) -> Result<Result<ChargeDecision, ProviderError>, NotOurs> {
    match read_intent(reply) {
        Ok(intent) => match expected.mismatch(&intent) {
            Some(why) => Err(NotOurs(why)),
            None => Ok(from_intent(&intent, reply)),
        },
        Err(err) => Ok(Err(err)),
    }
}

/// The PaymentIntent an answer carries, or what the answer means instead.
pub fn read_intent(reply: &Reply) -> Result<PaymentIntent, ProviderError> {
    if reply.status != 200 {
        return Err(unauthorized(reply).unwrap_or_else(|| unknown(reply, error_of(reply).as_ref())));
    }
    match serde_json::from_slice::<PaymentIntent>(&reply.body) {
        Ok(intent)
            if intent
                .object
                .as_deref()
                .is_none_or(|o| o == "payment_intent") =>
        {
            Ok(intent)
        }
        _ => Err(protocol(reply, "a 200 without a PaymentIntent")),
    }
}

/// The table for a search by key: the PaymentIntents made under it for `expected`'s charge, if
/// any (`Ok(None)`: none, so Stripe has no charge for the key). An intent of another invoice,
/// deployment or amount is not ours, whatever key it carries.
pub fn search_answer(
    reply: &Reply,
    expected: &Expected,
) -> Result<Option<ChargeDecision>, ProviderError> {
    if reply.status != 200 {
        return Err(unauthorized(reply).unwrap_or_else(|| unknown(reply, error_of(reply).as_ref())));
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
    let ours = found.data.iter().filter(|intent| match expected.mismatch(intent) {
        None => true,
        Some(why) => {
            log::warn!(
                "PaymentIntent {} carries invoice {}'s key but is not its charge ({why}); ignored",
                quote(&intent.id),
                expected.invoice
            );
            false
        }
    });
    match ours.min_by_key(|intent| rank(intent)) {
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
    let id = Some(intent.id.clone()).filter(|id| !id.is_empty());
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
        "processing" => Err(ProviderError::Processing { provider_ref: id }),
        // Left waiting for the customer: to authenticate, or to give another method.
        status @ ("requires_action" | "requires_payment_method") => {
            let error = intent
                .last_payment_error
                .clone()
                .unwrap_or_else(|| fallback(status));
            Ok(ChargeDecision::Declined {
                code: error.reason(),
                action_required: true,
                provider_ref: id,
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
            provider_ref: None,
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

/// A declined card: its decline code (or error code), whether the customer must act, and the
/// PaymentIntent the decline left (Stripe names it in the error).
fn declined_by(error: &StripeError) -> ChargeDecision {
    ChargeDecision::Declined {
        code: error.reason(),
        action_required: needs_authentication(error),
        provider_ref: error.payment_intent.as_ref().map(|pi| pi.id.clone()),
    }
}

/// Whether `error` means the customer must authenticate: its code or decline code says so.
pub fn needs_authentication(error: &StripeError) -> bool {
    [error.code.as_deref(), error.decline_code.as_deref()]
        .into_iter()
        .flatten()
        .any(|c| AUTHENTICATION_CODES.contains(&c))
}

/// A 401 or 403: Stripe refused the key itself (revoked, mistyped) or a permission it lacks
/// (a restricted key): nothing was processed, and no other request will be either.
pub fn unauthorized(reply: &Reply) -> Option<ProviderError> {
    let what = match reply.status {
        401 => "refused the key in ANTAEUS_STRIPE_SECRET_KEY",
        403 => "refused a request the key in ANTAEUS_STRIPE_SECRET_KEY has no permission for",
        _ => return None,
    };
    let detail = error_of(reply)
        .and_then(|e| e.code.or(e.message))
        .map(|c| format!(": {}", quote(&c)))
        .unwrap_or_default();
    let request = reply
        .request_id
        .as_deref()
        .map(|id| format!(", Stripe request {}", quote(id)))
        .unwrap_or_default();
    Some(ProviderError::Unauthorized(format!(
        "Stripe {what} ({}{detail}{request}); fix it and start the run again",
        reply.status
    )))
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
pub fn quote(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
