//! A PaymentIntent an earlier key left that may still complete (waiting for the customer to
//! authenticate, or processing) is settled before anything is made under a new key: what
//! succeeded is the charge, what is processing leaves the outcome unknown, and anything else is
//! cancelled first, so that one invoice never has two payments that could both complete.

use antaeus_core::{ChargeDecision, ChargeRequest, ProviderError};

use super::answer::{Expected, error_of, from_intent, protocol, read_intent};
use super::client::StripeClient;
use super::lookup::{cancel_intent, fetch_intent, intent};

/// What the open PaymentIntent leaves the charge to do.
#[derive(Debug)]
pub enum Settled {
    /// It went through (or is going): this is the charge's answer.
    Answer(Result<ChargeDecision, ProviderError>),
    /// It can never complete now: the charge may be made under the new key.
    Closed,
}

/// Settles `open` (an intent of `request`'s invoice, made under an earlier key).
pub async fn settle(client: &StripeClient, request: &ChargeRequest, open: &str) -> Settled {
    let expected = Expected::for_invoice(&request.invoice);
    match state(client, open, &expected).await {
        Ok(Some(Status::Succeeded | Status::Processing)) | Err(_) => {
            return Settled::Answer(answer(client, open, &expected).await);
        }
        Ok(None | Some(Status::Closed)) => return Settled::Closed,
        Ok(Some(Status::Open)) => {}
    }
    let cancelled = match cancel_intent(client, open, request.key.as_str()).await {
        Ok(reply) => reply,
        Err(err) => return Settled::Answer(Err(err)),
    };
    if cancelled.status == 200 {
        log::info!(
            "invoice {}: cancelled PaymentIntent {open}, left by an earlier attempt, before charging under key {}",
            request.invoice.id,
            request.key
        );
        return Settled::Closed;
    }
    // Refused: it moved on meanwhile (the customer completed it just now?). Ask again.
    match state(client, open, &expected).await {
        Ok(None | Some(Status::Closed)) => Settled::Closed,
        Ok(Some(Status::Succeeded | Status::Processing)) => {
            Settled::Answer(answer(client, open, &expected).await)
        }
        Ok(Some(Status::Open)) => Settled::Answer(Err(protocol(
            &cancelled,
            &format!(
                "{} to cancelling PaymentIntent {open}, which still waits for the customer",
                cancelled.status
            ),
        ))),
        Err(err) => Settled::Answer(Err(err)),
    }
}

/// Where an open intent is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Succeeded,
    Processing,
    /// Waiting for the customer, or for a confirmation: may still complete.
    Open,
    /// Canceled.
    Closed,
}

/// The intent's status; `None` when Stripe has no such intent (nothing can complete).
async fn state(
    client: &StripeClient,
    id: &str,
    expected: &Expected,
) -> Result<Option<Status>, ProviderError> {
    let reply = fetch_intent(client, id).await?;
    let gone = error_of(&reply).is_some_and(|e| e.code.as_deref() == Some("resource_missing"));
    if reply.status == 404 && gone {
        return Ok(None);
    }
    let found = read_intent(&reply)?;
    if let Some(why) = expected.mismatch(&found) {
        return Err(protocol(
            &reply,
            &format!(
                "PaymentIntent {id} recorded for invoice {}, but {why}",
                expected.invoice
            ),
        ));
    }
    Ok(Some(match found.status.as_str() {
        "succeeded" => Status::Succeeded,
        "processing" => Status::Processing,
        "canceled" => Status::Closed,
        _ => Status::Open,
    }))
}

/// The intent's answer, as a charge reads it (it succeeded or is processing).
async fn answer(
    client: &StripeClient,
    id: &str,
    expected: &Expected,
) -> Result<ChargeDecision, ProviderError> {
    let (found, reply) = intent(client, id).await?;
    if let Some(why) = expected.mismatch(&found) {
        return Err(protocol(&reply, &format!("PaymentIntent {id}: {why}")));
    }
    from_intent(&found, &reply)
}
