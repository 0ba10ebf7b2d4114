//! The external payment provider that charges customers' cards and accounts.

use std::time::Duration;

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
    /// The provider saw this key with a different request: a bug on our side.
    #[error("the provider rejected the idempotency key as reused with a different request")]
    IdempotencyKeyReused,
    /// The provider answered something the protocol does not allow.
    #[error("protocol error: {0}")]
    Protocol(String),
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
