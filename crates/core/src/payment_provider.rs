//! The external payment provider that charges customers' cards and accounts.

use antaeus_models::{IdempotencyKey, Invoice};
use async_trait::async_trait;
use thiserror::Error;

/// A definitive answer from the provider about one charge attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeDecision {
    /// The customer was charged the invoice's amount.
    Charged {
        /// The provider's reference for the charge.
        charge_id: String,
    },
    /// The customer's balance did not allow the charge; a later attempt may succeed.
    Declined,
    /// The provider does not know the customer; retrying cannot help.
    CustomerNotFound,
    /// The invoice's currency is not the customer's; retrying cannot help.
    CurrencyMismatch,
}

/// A charge attempt whose outcome is not known: the provider may or may not have charged.
///
/// Only a resend under the same idempotency key can tell, so callers must never retry these
/// under a new key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProviderError {
    /// The request or its answer was lost (refused, reset, 429 or 5xx).
    #[error("network error: {0}")]
    Network(String),
    /// No answer arrived within the timeout.
    #[error("the provider did not answer in time")]
    Timeout,
    /// The provider is still processing an earlier request under the same key.
    #[error("the provider is still processing this idempotency key")]
    InProgress,
    /// The provider saw this key with a different request: a bug on our side.
    #[error("the provider rejected the idempotency key as reused with a different request")]
    IdempotencyKeyReused,
    /// The provider answered something the protocol does not allow.
    #[error("protocol error: {0}")]
    Protocol(String),
}

/// Charges invoices. Implementations must honour the idempotency key: every call with the same
/// key is the same charge attempt and charges at most once.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentProvider: Send + Sync {
    /// Charges the invoice's amount to its customer, as the attempt identified by `key`.
    async fn charge(
        &self,
        invoice: &Invoice,
        key: &IdempotencyKey,
    ) -> Result<ChargeDecision, ProviderError>;
}
