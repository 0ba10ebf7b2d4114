//! The `stripe` payment provider: charges invoices as off-session PaymentIntents, built so that
//! the invariants hold against Stripe's own semantics.
//!
//! - A charge is one `POST /v1/payment_intents` (`confirm=true`, `off_session=true`) under the
//!   charge key as `Idempotency-Key`, its parameters byte-identical on every resend
//!   ([`request`]).
//! - Every answer has one meaning ([`answer`]): only a definitive one becomes a
//!   [`ChargeDecision`]; anything else leaves the outcome unknown (same key), never a decline.
//! - A charge still `processing` is asked about by its PaymentIntent id, never charged again;
//!   a key first sent more than [`KEY_MEMORY`] ago (Stripe forgets keys after 24 hours, and a
//!   forgotten key is a new charge) is looked up before it is sent again ([`lookup`]).
//! - A PaymentIntent an earlier key left open (waiting for the customer) is settled before a
//!   new one is made: taken if it succeeded, cancelled otherwise ([`open_intent`]).
//! - A PaymentIntent counts only when its invoice, deployment, amount and currency are the
//!   charge's ([`answer::Expected`]).

mod answer;
mod client;
mod config;
mod limits;
mod lookup;
mod objects;
mod open_intent;
mod refund;
mod request;
mod webhook;

use std::fmt;
use std::sync::Arc;

use antaeus_core::{
    ChargeDecision, ChargeRequest, Clock, PaymentLookup, PaymentProvider, PaymentState,
    ProviderError, RefundDecision, RefundRequest, SystemClock,
};
use async_trait::async_trait;
use chrono::TimeDelta;

pub use config::{API_VERSION, DEFAULT_API_BASE, StripeConfig, StripeConfigError};
pub use limits::amount_limits;
pub use webhook::StripeWebhookReader;

use answer::{Expected, Meaning};
use client::StripeClient;
use lookup::DefaultMethod;
use open_intent::Settled;

/// How long after a key was first sent the adapter stops trusting Stripe to remember it: an
/// hour inside Stripe's 24, for clock drift and slow requests.
pub const KEY_MEMORY: TimeDelta = TimeDelta::hours(23);

/// The decline code of a customer with no payment method at all: they must add one.
pub const NO_PAYMENT_METHOD: &str = "no_payment_method";

/// A [`PaymentProvider`] that charges through Stripe; cheap to clone.
#[derive(Clone)]
pub struct StripePaymentProvider {
    client: StripeClient,
    clock: Arc<dyn Clock>,
    mode: &'static str,
}

impl StripePaymentProvider {
    /// Validates `config` and builds the client; no request is made yet.
    pub fn new(config: &StripeConfig) -> Result<Self, StripeConfigError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// [`StripePaymentProvider::new`] judging key ages by `clock`.
    pub fn with_clock(
        config: &StripeConfig,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StripeConfigError> {
        Ok(Self {
            client: StripeClient::new(config)?,
            clock,
            mode: config.mode(),
        })
    }

    /// Whether a call under this request's key may have reached Stripe already.
    fn sent_before(request: &ChargeRequest) -> bool {
        request.key_first_sent_at.is_some() || request.provider_ref.is_some()
    }

    /// Whether Stripe may have forgotten the key: first sent more than [`KEY_MEMORY`] ago.
    fn key_may_be_forgotten(&self, request: &ChargeRequest) -> bool {
        request
            .key_first_sent_at
            .is_some_and(|at| self.clock.now() - at > KEY_MEMORY)
    }

    /// Creates and confirms the PaymentIntent of `request` for `customer`.
    async fn create(
        &self,
        request: &ChargeRequest,
        customer: &str,
    ) -> Result<ChargeDecision, ProviderError> {
        let method = match request.customer.payment_method_ref.clone() {
            Some(method) => Some(method),
            None => match lookup::default_method(&self.client, customer).await? {
                DefaultMethod::Method(method) => Some(method),
                // Decided before anything is sent under the key; once it may have been sent,
                // only Stripe's answer to the key decides.
                DefaultMethod::NoMethod if !Self::sent_before(request) => {
                    return Ok(ChargeDecision::Declined {
                        code: Some(NO_PAYMENT_METHOD.into()),
                        action_required: true,
                        provider_ref: None,
                    });
                }
                DefaultMethod::CustomerMissing if !Self::sent_before(request) => {
                    return Ok(ChargeDecision::CustomerNotFound);
                }
                _ => None,
            },
        };
        let body = request::create_intent_body(request, customer, method.as_deref());
        let reply = self
            .client
            .post_form("/v1/payment_intents", body, request.key.as_str())
            .await?;
        log::debug!(
            "Stripe answered {} to invoice {} (key {}, request {})",
            reply.status,
            request.invoice.id,
            request.key,
            reply.request_id.as_deref().unwrap_or("-")
        );
        let expected = Expected::of(request);
        match answer::create_answer(&reply, &expected) {
            // The customer must act on a PaymentIntent the answer did not name: find it among
            // the customer's, so that it is settled before the next key makes another.
            Meaning::Final(Ok(ChargeDecision::Declined {
                code,
                action_required: true,
                provider_ref: None,
            })) => Ok(ChargeDecision::Declined {
                code,
                action_required: true,
                provider_ref: lookup::intent_of_key(&self.client, customer, request.key.as_str())
                    .await,
            }),
            Meaning::Final(result) => result,
            Meaning::MaybeMissing => {
                lookup::confirm_missing(&self.client, &reply, customer, method.as_deref()).await
            }
            Meaning::KeyHeldElsewhere if Self::sent_before(request) => {
                // Our key, first sent with other parameters (a default payment method that
                // changed since): what Stripe made under it is looked up; until it is found,
                // the outcome stays unknown under the same key, never a new one.
                match lookup::search_by_key(&self.client, request.key.as_str(), &expected).await? {
                    Some(found) => Ok(found),
                    None => Err(answer::protocol(
                        &reply,
                        "idempotency_error to a resend, and no PaymentIntent found under the key yet",
                    )),
                }
            }
            Meaning::KeyHeldElsewhere => Err(ProviderError::IdempotencyKeyReused),
        }
    }
}

impl fmt::Debug for StripePaymentProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripePaymentProvider")
            .field("api_base", &self.client.base().as_str())
            .field("mode", &self.mode)
            .field("secret_key", &"<redacted>")
            .finish()
    }
}

#[async_trait]
impl PaymentProvider for StripePaymentProvider {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeDecision, ProviderError> {
        // A PaymentIntent under this key is known (it was processing): ask about it, never
        // make another.
        if let Some(intent) = &request.provider_ref {
            return lookup::retrieve_intent(
                &self.client,
                intent,
                &Expected::for_invoice(&request.invoice),
            )
            .await;
        }
        // An earlier key's PaymentIntent may still complete: it goes first.
        if let Some(open) = &request.open_intent
            && let Settled::Answer(answer) = open_intent::settle(&self.client, request, open).await
        {
            return answer;
        }
        let Some(customer) = request.customer.customer_ref.as_deref() else {
            // Billing fails such invoices before calling (require_customer_ref); should one
            // come anyway, nothing is sent.
            return if Self::sent_before(request) {
                Err(ProviderError::Protocol(
                    "the customer has no Stripe customer reference any more".into(),
                ))
            } else {
                Ok(ChargeDecision::Declined {
                    code: Some(NO_PAYMENT_METHOD.into()),
                    action_required: true,
                    provider_ref: None,
                })
            };
        };
        if self.key_may_be_forgotten(request) {
            // Stripe may no longer know the key: a resend would be a new charge. Take what
            // was made under it, if anything was.
            let expected = Expected::of(request);
            if let Some(found) =
                lookup::search_by_key(&self.client, request.key.as_str(), &expected).await?
            {
                return Ok(found);
            }
            log::info!(
                "invoice {}: Stripe has no charge under key {} (first sent at {}); sending it again",
                request.invoice.id,
                request.key,
                request
                    .key_first_sent_at
                    .map(|at| at.to_rfc3339())
                    .unwrap_or_default()
            );
        }
        self.create(request, customer).await
    }

    async fn payment_state(&self, lookup: &PaymentLookup) -> Result<PaymentState, ProviderError> {
        let expected = Expected {
            deployment: Some(lookup.namespace.clone()).filter(|_| lookup.namespace.is_some()),
            ..Expected::for_invoice(&lookup.invoice)
        };
        let (intent, reply) = lookup::intent(&self.client, &lookup.reference).await?;
        if let Some(why) = expected.mismatch(&intent) {
            return Err(answer::protocol(
                &reply,
                &format!(
                    "PaymentIntent {} is not invoice {}'s: {why}",
                    lookup.reference, lookup.invoice.id
                ),
            ));
        }
        Ok(match intent.status.as_str() {
            "succeeded" => PaymentState::Succeeded,
            "processing" => PaymentState::Processing,
            "canceled" => PaymentState::Canceled {
                reason: intent.cancellation_reason,
            },
            _ => PaymentState::WaitingOnCustomer {
                code: intent
                    .last_payment_error
                    .and_then(|e| e.reason())
                    .or(Some(intent.status)),
            },
        })
    }

    async fn cancel_payment(&self, lookup: &PaymentLookup) -> Result<PaymentState, ProviderError> {
        let key = format!("antaeus-cancel-{}", lookup.invoice.id);
        let reply = lookup::cancel_intent(&self.client, &lookup.reference, &key).await?;
        if let Some(refused) = answer::unauthorized(&reply) {
            return Err(refused);
        }
        // Canceled now, or it could not be (it went through, or was canceled before): its
        // state tells.
        self.payment_state(lookup).await
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundDecision, ProviderError> {
        refund::refund(&self.client, request).await
    }

    fn describe(&self) -> String {
        format!("Stripe at {}", self.client.base())
    }
}
