//! What the provider's later news about payments reads and writes: an invoice as settling sees
//! it, the news applied in one fenced transaction with its event, and the provider's events
//! already handled.

use antaeus_models::{AttemptOutcome, Dispute, Invoice, InvoiceId, InvoiceStatus, Notification};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use crate::billing::{ChargeState, Transition};

/// An invoice, with what settling news about its payments needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentView {
    /// The invoice.
    pub invoice: Invoice,
    /// Its billing counters.
    pub state: ChargeState,
    /// Its claim fence: a write made from this view applies only while it holds.
    pub fence: u32,
    /// The namespace of its current key once sent (`""`: the form before namespaces).
    pub key_namespace: Option<String>,
    /// The payment that may still complete, if any.
    pub open_intent: Option<String>,
    /// The payment that paid it, if it is PAID.
    pub payment_ref: Option<String>,
    /// Every key its calls were made under, oldest first, each with the provider's reference
    /// for the payment its latest call learnt (a payment made under another key is not this
    /// invoice's).
    pub keys: Vec<(String, Option<String>)>,
}

/// The provider event a write handles, recorded with it (a redelivery then changes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandledEvent {
    /// The provider's id for the event.
    pub id: String,
    /// Its type.
    pub kind: String,
    /// What Antaeus did with it, for people.
    pub outcome: String,
}

/// What to change on the attempt a payment belongs to (the latest call under its key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptNote {
    /// The key the payment was made under.
    pub key: String,
    /// A decided outcome the attempt now has (charged, declined), if the news decides it.
    pub outcome: Option<AttemptOutcome>,
    /// The provider's reason for a decline.
    pub decline_code: Option<String>,
    /// The provider's reference for the payment.
    pub provider_ref: String,
    /// What the provider said, for people.
    pub message: String,
}

/// How settling changes the invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceChange {
    /// Not at all.
    None,
    /// It moves, as the transition says; `payment` is the payment the news is about (the
    /// transition's "call"), which pays it when it becomes PAID.
    Move {
        /// The transition.
        transition: Transition,
        /// The payment.
        payment: String,
    },
    /// Only the payment that may still complete changes.
    OpenIntent(Option<String>),
    /// One more payment beyond the one that paid it.
    ExtraCharge,
    /// Its dispute is now this.
    Dispute(Box<Dispute>),
}

/// One settling write, applied in one transaction only while the invoice is still in
/// `expected_status` at `expected_fence`.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentWrite {
    /// The provider event handled, if the news came in one (not for a lookup).
    pub event: Option<HandledEvent>,
    /// The invoice.
    pub invoice: InvoiceId,
    /// Its status as read.
    pub expected_status: InvoiceStatus,
    /// Its fence as read.
    pub expected_fence: u32,
    /// The invoice's change.
    pub change: InvoiceChange,
    /// The attempt's, if the payment's key is known.
    pub attempt: Option<AttemptNote>,
    /// The event to announce.
    pub notification: Option<Box<Notification>>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What a settling write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentWriteOutcome {
    /// Applied.
    Applied,
    /// The event was handled before: nothing changed.
    AlreadyHandled,
    /// The invoice changed since it was read: read it again.
    Conflict,
}

/// Reads invoices for settling and applies the provider's news about their payments.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentStore: Send + Sync {
    /// This database's deployment id (the namespace of its charge keys).
    async fn deployment_id(&self) -> Result<String, StoreError>;

    /// The invoice `id` as settling sees it.
    async fn payment_view(&self, id: InvoiceId) -> Result<Option<PaymentView>, StoreError>;

    /// The invoice a provider payment paid, or waits on (`reference` is its payment or its
    /// open payment).
    async fn invoice_of_payment(&self, reference: &str) -> Result<Option<InvoiceId>, StoreError>;

    /// Applies `write` in one transaction (see [`PaymentWrite`]): the event recorded (or found
    /// handled before), the invoice changed with its totals, the attempt annotated, the event
    /// announced.
    async fn write_payment(&self, write: &PaymentWrite) -> Result<PaymentWriteOutcome, StoreError>;

    /// Records a provider event that changes nothing (a type not acted on, a payment that is
    /// not this deployment's); `false` when it was recorded before.
    async fn note_event(
        &self,
        event: &HandledEvent,
        invoice: Option<InvoiceId>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Invoices with a payment that may still complete and no claim, after `after` in id
    /// order, at most `limit` (what reconciliation asks the provider about).
    async fn open_payments(
        &self,
        after: Option<InvoiceId>,
        limit: u32,
    ) -> Result<Vec<PaymentView>, StoreError>;
}
