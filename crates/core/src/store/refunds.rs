//! Refunds: the intent recorded before the provider is asked (with what is left to refund
//! reserved, so that two refunds never take more than was paid), the provider's answer after,
//! and the refunds whose answer was lost, asked again under their key.

use antaeus_models::{IdempotencyKey, Invoice, InvoiceId, Money, Refund, RefundId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::StoreError;

/// A refund asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefund {
    /// The invoice to refund.
    pub invoice: InvoiceId,
    /// How much (in the invoice's currency); `None` refunds what is left.
    pub amount: Option<Decimal>,
    /// Why, as the requester says.
    pub reason: Option<String>,
    /// The requester's `Idempotency-Key`, with the fingerprint of what it asked.
    pub request: Option<(IdempotencyKey, String)>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A refund recorded and to be sent to the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundToSend {
    /// The refund, `pending`.
    pub refund: Refund,
    /// The invoice refunded.
    pub invoice: Invoice,
    /// The provider's reference for the payment that paid it.
    pub payment_ref: String,
    /// This deployment's id.
    pub namespace: String,
}

/// What asking for a refund found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundStart {
    /// Recorded (the intent): send it.
    Started(Box<RefundToSend>),
    /// The same request was made before under its key: its refund, as it is now.
    Replayed(Box<Refund>),
    /// The key was used by another request.
    KeyReused,
    /// No such invoice.
    NotFound,
    /// The invoice is not PAID (nothing was charged to refund).
    NotPaid(antaeus_models::InvoiceStatus),
    /// The invoice is PAID, but by no payment the provider could refund (demo data, or paid
    /// before payments were recorded).
    NoPayment,
    /// More than is left: `left` may still be refunded (refunds pending included).
    Exceeds {
        /// What was asked.
        asked: Money,
        /// What is left.
        left: Money,
    },
    /// The amount is not one of the invoice's currency (too many decimals, not positive).
    Invalid(String),
}

/// The provider's answer to a refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefundEnd {
    /// Refunded: the invoice's refunded amount grows, `invoice.refunded` is announced.
    Succeeded {
        /// The provider's id for the refund.
        refund_ref: String,
    },
    /// Refused: nothing was refunded.
    Failed {
        /// Why.
        reason: String,
    },
    /// No answer: still pending, asked again under the same key at `retry_at`.
    Unknown {
        /// What went wrong.
        message: String,
        /// When to ask again.
        retry_at: DateTime<Utc>,
    },
}

/// What the provider's events tell about refunds of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderRefundNews {
    /// One refund changed (one Antaeus asked for, or one made at the provider).
    One(crate::provider_events::ProviderRefund),
    /// Everything refunded of the payment so far, in minor units (refunds made at the
    /// provider show as the difference).
    Total(i64),
}

/// Records refunds and what the provider answered.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RefundStore: Send + Sync {
    /// Records the refund `request` asks for, in one transaction with the checks (the invoice
    /// is PAID by a payment, the amount is at most what is left after refunds succeeded and
    /// pending, the key was not used by another request), before anything is sent.
    async fn begin_refund(&self, request: &NewRefund) -> Result<RefundStart, StoreError>;

    /// Records the provider's answer to refund `id` at `at`.
    async fn finish_refund(
        &self,
        id: RefundId,
        end: &RefundEnd,
        at: DateTime<Utc>,
    ) -> Result<Refund, StoreError>;

    /// The invoice's refunds, oldest first.
    async fn list_refunds(&self, invoice: InvoiceId) -> Result<Vec<Refund>, StoreError>;

    /// Records what the provider's event `event` tells about refunds of invoice `invoice`'s
    /// payment, in one transaction with the event (`false`: it was handled before): a refund
    /// Antaeus asked for settles, one made at the provider is added, and the invoice's
    /// refunded amount follows the provider's; every refund that succeeds is announced.
    async fn record_provider_refund(
        &self,
        event: &crate::store::HandledEvent,
        invoice: InvoiceId,
        news: &ProviderRefundNews,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Pending refunds whose answer was lost and whose time to ask again has come (at most
    /// `limit`), each counted as asked again.
    async fn due_refunds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RefundToSend>, StoreError>;
}
