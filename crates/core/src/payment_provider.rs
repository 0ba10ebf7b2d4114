//! The external payment provider that charges customers' cards and accounts.

use std::time::Duration;

use antaeus_models::{IdempotencyKey, Invoice, Money, ProviderRefs, RefundId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use thiserror::Error;

/// One charge attempt, as the provider is asked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeRequest {
    /// The invoice to charge (its amount, its customer).
    pub invoice: Invoice,
    /// The provider's references for the invoice's customer (what a real provider charges),
    /// as the first call under this key sent them: every resend of a key sends exactly the
    /// request it was first sent with, whatever the customer's references are now.
    pub customer: ProviderRefs,
    /// Identifies the attempt: every call with it is the same attempt.
    pub key: IdempotencyKey,
    /// The deployment the key belongs to (this database's id), which a provider records with
    /// the charge so that a charge found later is known to be this deployment's; `None` for a
    /// key of the form before deployments had ids (its charge carries none).
    pub namespace: Option<String>,
    /// When a call under this key was first made, if one was (a resend, or a later run after
    /// an unknown outcome), on this instance's clock but measured by the store's, so that two
    /// instances' clocks never disagree about a key's age: a provider that forgets keys after
    /// a while must look the charge up before sending the key again.
    pub key_first_sent_at: Option<DateTime<Utc>>,
    /// The provider's own reference for the charge, if an earlier call under this key learnt it
    /// (a charge still processing is asked about, not made again).
    pub provider_ref: Option<String>,
    /// A payment an earlier key left that may still complete (a PaymentIntent waiting for the
    /// customer to authenticate, or processing): before anything is made under this key it is
    /// asked about, and cancelled unless it succeeded, so that one invoice never has two
    /// payments that could both complete.
    pub open_intent: Option<String>,
}

impl ChargeRequest {
    /// A first attempt under `key` to charge `invoice`, whose customer has no provider
    /// references.
    pub fn new(invoice: Invoice, key: IdempotencyKey) -> Self {
        Self {
            invoice,
            customer: ProviderRefs::default(),
            key,
            namespace: None,
            key_first_sent_at: None,
            provider_ref: None,
            open_intent: None,
        }
    }
}

/// A definitive answer from the provider about one charge attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeDecision {
    /// The customer was charged the invoice's amount.
    Charged {
        /// The provider's reference for the charge.
        charge_id: String,
    },
    /// The charge was declined (the balance did not allow it, the card was refused); a later
    /// attempt may succeed.
    Declined {
        /// The provider's reason (e.g. `insufficient_funds`), when it gave one.
        code: Option<String>,
        /// The customer must act first (authenticate, give another payment method): retrying
        /// alone will not help, so they are told (`invoice.payment_action_required`). The
        /// payment (`provider_ref`) stays open for them to complete.
        action_required: bool,
        /// The provider's payment the decline left (a Stripe PaymentIntent), when it said.
        provider_ref: Option<String>,
    },
    /// The provider does not know the customer; retrying cannot help.
    CustomerNotFound,
    /// The invoice's currency is not the customer's; retrying cannot help.
    CurrencyMismatch,
    /// The provider refuses to charge this amount at all (under its minimum, over its
    /// maximum); nothing was made, and retrying cannot help.
    AmountNotChargeable {
        /// The provider's code (e.g. `amount_too_small`).
        code: String,
    },
}

/// A charge attempt whose outcome is not known: the provider may or may not have charged.
///
/// Only a resend under the same idempotency key can tell, so callers must never retry these
/// under a new key. Only [`ProviderError::is_provider_failure`] answers say the provider
/// itself is failing; the others are about one request.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProviderError {
    /// The request or its answer was lost (refused or reset connection, a broken answer).
    #[error("network error: {0}")]
    Network(String),
    /// The provider answered that it cannot take the request now: 429 (rate limited) or a
    /// 5xx. It may still have charged (a 5xx after the charge), so the same key is resent.
    #[error("the provider answered {status}{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs_f64())).unwrap_or_default())]
    Unavailable {
        /// The HTTP status (429, 500–599).
        status: u16,
        /// How long the provider asked us to wait (`Retry-After`), if it said.
        retry_after: Option<Duration>,
    },
    /// No answer arrived within the timeout.
    #[error("the provider did not answer in time")]
    Timeout,
    /// The provider is still processing an earlier request under the same key.
    #[error("the provider is still processing this idempotency key")]
    InProgress,
    /// The provider accepted the charge and has not decided it yet: the next attempt asks
    /// about it under the same key (never a new one).
    #[error("the charge is still processing at the provider{}", provider_ref.as_ref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Processing {
        /// The provider's reference for the charge, to ask about it.
        provider_ref: Option<String>,
    },
    /// The provider saw this key with a different request: a bug on our side.
    #[error("the provider rejected the idempotency key as reused with a different request")]
    IdempotencyKeyReused,
    /// The provider answered something the protocol does not allow.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// The provider refused our credentials (401, 403): nothing was processed, and nothing
    /// will be until an operator fixes them, so the run stops at once. The text names the
    /// setting to fix, never its value.
    #[error("{0}")]
    Unauthorized(String),
}

impl ProviderError {
    /// Whether the answer says the provider is failing (a timeout, a lost connection, 429 or
    /// 5xx), as opposed to something about one request (a key in progress or reused, an
    /// answer outside the protocol): only the former count towards the circuit breaker.
    pub fn is_provider_failure(&self) -> bool {
        matches!(
            self,
            ProviderError::Network(_) | ProviderError::Timeout | ProviderError::Unavailable { .. }
        )
    }

    /// How long the provider asked us to wait before the next request, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::Unavailable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What a provider's payment (e.g. a Stripe PaymentIntent) says now, when asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentState {
    /// It went through: the customer was charged.
    Succeeded,
    /// Accepted, not decided yet (a bank debit).
    Processing,
    /// Waiting for the customer (to authenticate, or to give another payment method).
    WaitingOnCustomer {
        /// The provider's reason, when it gave one.
        code: Option<String>,
    },
    /// It can never complete now (cancelled, or failed for good).
    Canceled {
        /// Why, when the provider said.
        reason: Option<String>,
    },
}

/// Asking the provider about a payment it made for an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentLookup {
    /// The invoice the payment is for (a payment found for another invoice, another
    /// deployment or another amount is not this invoice's).
    pub invoice: Invoice,
    /// The provider's reference for the payment.
    pub reference: String,
    /// The deployment the payment was made by (`None`: before deployments had ids).
    pub namespace: Option<String>,
}

/// A refund to ask of the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The refund's id in Antaeus.
    pub refund: RefundId,
    /// The invoice refunded.
    pub invoice: Invoice,
    /// The provider's reference for the payment refunded (a Stripe PaymentIntent).
    pub payment_ref: String,
    /// How much.
    pub amount: Money,
    /// Why, as the requester said.
    pub reason: Option<String>,
    /// Identifies the refund at the provider: every call with it is the same refund.
    pub key: IdempotencyKey,
    /// This deployment's id, recorded with the refund.
    pub namespace: Option<String>,
    /// Whether a call under this key was made before (its answer lost): a provider that
    /// forgets keys must look the refund up before sending the key again.
    pub resend: bool,
}

/// A definitive answer to a refund request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundDecision {
    /// The provider refunded it (or accepted to, for refunds that settle later).
    Refunded {
        /// The provider's id for the refund.
        refund_ref: String,
    },
    /// The provider refused it: nothing was refunded.
    Refused {
        /// The provider's reason.
        code: String,
    },
}

/// Charges invoices. Implementations must honour the idempotency key: every call with the same
/// key is the same charge attempt and charges at most once.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Charges the invoice's amount to its customer, as the attempt `request.key` identifies.
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeDecision, ProviderError>;

    /// Waits for this caller's turn to call the provider (a rate limit), so that the call's
    /// own timeout starts only once it may be sent; callers call it before every call. The
    /// default has no pace.
    async fn wait_turn(&self) {}

    /// What the payment `lookup.reference` says now (reconciling payments that may still
    /// complete). Providers whose payments are decided by the call never need asking: the
    /// default says so as a protocol error.
    async fn payment_state(&self, lookup: &PaymentLookup) -> Result<PaymentState, ProviderError> {
        Err(ProviderError::Protocol(format!(
            "{} does not look payments up (asked about {})",
            self.describe(),
            lookup.reference
        )))
    }

    /// Cancels the payment `lookup.reference` so that it can never complete (an invoice given
    /// up on must not be paid later), and says where it is now: canceled, or succeeded if it
    /// went through first. The default says the provider cannot, as a protocol error.
    async fn cancel_payment(&self, lookup: &PaymentLookup) -> Result<PaymentState, ProviderError> {
        Err(ProviderError::Protocol(format!(
            "{} does not cancel payments (asked about {})",
            self.describe(),
            lookup.reference
        )))
    }

    /// Refunds part or all of a payment, as the refund `request.key` identifies (every call
    /// with the same key is the same refund).
    async fn refund(&self, request: &RefundRequest) -> Result<RefundDecision, ProviderError>;

    /// Names the provider for people (a run that never reached it says which).
    fn describe(&self) -> String {
        "the payment provider".to_owned()
    }
}
