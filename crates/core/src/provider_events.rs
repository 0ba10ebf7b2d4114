//! What a payment provider tells later, about a payment made for an invoice: its events
//! (Stripe's webhooks), as the provider's adapter reads them. The adapter verifies and reads;
//! the payment event service (`service::payments`) decides what they change, through the state
//! machine, as it does for the answer to a call.

use antaeus_models::{Currency, InvoiceId, RefundId};
use chrono::{DateTime, Utc};
use thiserror::Error;

/// One event from the provider, about one payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEvent {
    /// The provider's id for the event (e.g. `evt_…`): a redelivery carries the same id.
    pub id: String,
    /// The provider's name for the event (e.g. `payment_intent.succeeded`), for the record.
    pub kind: String,
    /// Which payment it is about, as the provider names it.
    pub payment: PaymentRef,
    /// What happened to it.
    pub change: PaymentChange,
}

/// How a provider names the payment an event is about: what Antaeus recorded with it (its
/// metadata), the provider's own id, and its amount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentRef {
    /// `metadata[antaeus_invoice_id]`.
    pub invoice: Option<InvoiceId>,
    /// `metadata[antaeus_key]`: the charge key the payment was made under.
    pub key: Option<String>,
    /// `metadata[antaeus_deployment]`: the deployment that made it.
    pub namespace: Option<String>,
    /// The provider's id for the payment (a Stripe PaymentIntent `pi_…`).
    pub intent: Option<String>,
    /// The payment's amount, in minor units (of the payment, not of a refund or dispute).
    pub amount_minor: Option<i64>,
    /// The payment's currency.
    pub currency: Option<Currency>,
}

/// What happened to a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentChange {
    /// It went through: the customer was charged.
    Succeeded,
    /// It was accepted and is being decided (a bank debit).
    Processing,
    /// An attempt to complete it failed; it may wait for the customer again.
    Failed {
        /// The provider's reason.
        code: Option<String>,
        /// The customer must act (authenticate, give another payment method).
        action_required: bool,
    },
    /// It can never complete now.
    Canceled {
        /// Why, when the provider said.
        reason: Option<String>,
    },
    /// Refunds of it changed: the total the provider has refunded now (Stripe's
    /// `charge.refunded`, including refunds made in its dashboard).
    Refunded {
        /// Everything refunded of the payment so far, in minor units.
        total_refunded_minor: i64,
    },
    /// One refund changed (Stripe's `charge.refund.updated`).
    RefundUpdated(ProviderRefund),
    /// The cardholder disputed it (a chargeback), or the dispute changed.
    Disputed(DisputeReport),
    /// A dispute of it was closed (won, lost, …).
    DisputeClosed(DisputeReport),
}

/// A refund, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRefund {
    /// The provider's id for it (`re_…`).
    pub id: String,
    /// How much, in minor units.
    pub amount_minor: i64,
    /// Whether it went through: `true` for succeeded (or pending), `false` once it failed or
    /// was canceled.
    pub succeeded: bool,
    /// Why it failed, when it did.
    pub failure_reason: Option<String>,
    /// `metadata[antaeus_refund_id]`: the Antaeus refund it is, when Antaeus asked for it.
    pub antaeus_refund: Option<RefundId>,
}

/// A dispute, as the provider reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisputeReport {
    /// The provider's id for it (`dp_…`).
    pub id: String,
    /// The provider's status (`needs_response`, `under_review`, `won`, `lost`, …).
    pub status: String,
    /// The cardholder's reason.
    pub reason: String,
    /// The amount disputed, in minor units.
    pub amount_minor: i64,
    /// When evidence is due, while open.
    pub evidence_due_by: Option<DateTime<Utc>>,
}

/// One delivery of a provider's webhook, verified and read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookDelivery {
    /// An event Antaeus acts on.
    Event(Box<ProviderEvent>),
    /// A genuine event of a type Antaeus does not act on (it is answered 2xx all the same).
    Ignored {
        /// The provider's id for it.
        id: String,
        /// Its type.
        kind: String,
    },
}

/// Why a delivery was refused: it did not come from the provider, or cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebhookRejected {
    /// No signature, a signature none of the secrets makes, or one too old (a replay).
    #[error("the webhook's signature does not verify: {0}")]
    BadSignature(String),
    /// Signed, but not an event the reader understands.
    #[error("the webhook's body is not a provider event: {0}")]
    Malformed(String),
}

/// Verifies and reads a provider's webhook deliveries (the Stripe adapter implements it).
pub trait WebhookReader: Send + Sync {
    /// Reads the delivery `body`, signed with `signature` (the signature header's value),
    /// received at `now` (signatures older than the reader's tolerance are refused).
    fn read(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<WebhookDelivery, WebhookRejected>;
}
