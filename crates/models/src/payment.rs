//! What happens to a payment after the call: refunds and disputes.

use chrono::{DateTime, Utc};

use crate::{InvoiceId, Money, RefundId};

string_enum! {
    /// Where a refund is.
    pub enum RefundStatus ("refund status") {
        /// Asked of the provider, outcome not known yet: asked again under the same key.
        Pending = "pending",
        /// The provider refunded it.
        Succeeded = "succeeded",
        /// The provider refused it (or it failed later); nothing was refunded.
        Failed = "failed",
    }
}

string_enum! {
    /// Who asked for a refund.
    pub enum RefundOrigin ("refund origin") {
        /// Through Antaeus' API or console.
        Api = "api",
        /// At the provider (e.g. in Stripe's dashboard), learnt from its events.
        Provider = "provider",
    }
}

/// One refund of a paid invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    /// The refund's id.
    pub id: RefundId,
    /// The invoice refunded.
    pub invoice_id: InvoiceId,
    /// How much, in the invoice's currency.
    pub amount: Money,
    /// Why, as the requester said.
    pub reason: Option<String>,
    /// Where it is.
    pub status: RefundStatus,
    /// Who asked for it.
    pub origin: RefundOrigin,
    /// The idempotency key sent to the provider.
    pub provider_key: String,
    /// The provider's id for it (e.g. Stripe's `re_…`), once known.
    pub provider_ref: Option<String>,
    /// Why it failed, if it did.
    pub failure_reason: Option<String>,
    /// Provider calls made for it.
    pub attempts: u32,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// A cardholder's dispute (chargeback) of an invoice's payment, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dispute {
    /// The provider's id for it (e.g. Stripe's `dp_…`).
    pub id: String,
    /// The provider's status (`needs_response`, `under_review`, `won`, `lost`, …).
    pub status: String,
    /// The cardholder's reason (`fraudulent`, `product_not_received`, …).
    pub reason: String,
    /// The amount disputed.
    pub amount: Money,
    /// When evidence must be submitted by, while it is open.
    pub evidence_due_by: Option<DateTime<Utc>>,
}

impl Dispute {
    /// The provider's statuses of a dispute that is decided (won or lost) or otherwise closed;
    /// every other status is open (evidence may still be due).
    pub const CLOSED_STATUSES: [&'static str; 4] =
        ["won", "lost", "warning_closed", "charge_refunded"];

    /// Whether the dispute is decided (won or lost) or otherwise closed.
    pub fn is_closed(&self) -> bool {
        Self::CLOSED_STATUSES.contains(&self.status.as_str())
    }
}
