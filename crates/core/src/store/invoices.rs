use antaeus_models::{Invoice, InvoiceFilter, InvoiceId, InvoiceStatus, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{InvoiceCreation, InvoiceDraft, KeyedRequest, StoreError};

/// What asking to retry an invoice did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryOutcome {
    /// A FAILED or retry-scheduled invoice is now due.
    MadeDue(Invoice),
    /// It was due already; nothing changed.
    AlreadyDue(Invoice),
    /// It is being charged now.
    Charging,
    /// It is paid.
    Paid,
    /// It is void: it is never charged.
    Void,
    /// No invoice has this id.
    NotFound,
}

/// What asking to void an invoice did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoidOutcome {
    /// A PENDING or FAILED invoice is now VOID; its `invoice.voided` event is in the outbox.
    Voided(Invoice),
    /// It was void already; nothing changed.
    AlreadyVoid(Invoice),
    /// It is being charged now: too late to void.
    Charging,
    /// It is paid.
    Paid,
    /// Its last charge's outcome is unknown: the provider may have charged it. Voiding waits
    /// until a resend of `key` (at `retry_at`) tells.
    OutcomeUnknown {
        /// The key whose outcome is unknown.
        key: String,
        /// When it is resent.
        retry_at: Option<DateTime<Utc>>,
    },
    /// A payment of it may still complete (a PaymentIntent waiting for the customer, or
    /// processing).
    PaymentMayComplete {
        /// The provider's reference for the payment.
        reference: String,
    },
    /// No invoice has this id.
    NotFound,
}

/// Reads and creates invoices, makes them due again on request, voids them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait InvoiceStore: Send + Sync {
    /// The invoice with this id, if any.
    async fn fetch_invoice(&self, id: InvoiceId) -> Result<Option<Invoice>, StoreError>;

    /// One page of the invoices that match `filter`, ordered by id.
    async fn list_invoices(
        &self,
        filter: InvoiceFilter,
        page: PageRequest<InvoiceId>,
    ) -> Result<Vec<Invoice>, StoreError>;

    /// Makes a FAILED invoice, or a PENDING one not due yet, a retry due at `now` (status
    /// PENDING, next attempt `now`, no failure reason), atomically, so the next run of either
    /// scope charges it; its key sequence is untouched, so the next attempt uses the key its
    /// last outcome calls for.
    async fn retry_invoice(
        &self,
        id: InvoiceId,
        now: DateTime<Utc>,
    ) -> Result<RetryOutcome, StoreError>;

    /// Voids a PENDING or FAILED invoice, atomically, with its `invoice.voided` event (made at
    /// `now`) in the same transaction: a claim racing the void either takes the invoice first
    /// (and the void is refused) or finds it VOID (and never charges it). Refused while its
    /// last charge's outcome is unknown or a payment of it may still complete: the invoice may
    /// be paid, and a VOID invoice must never have been charged.
    async fn void_invoice(
        &self,
        id: InvoiceId,
        now: DateTime<Utc>,
    ) -> Result<VoidOutcome, StoreError>;

    /// Creates the invoice, in one transaction with its idempotency key (when `keyed`): checks
    /// its customer exists and bills in its currency (holding the customer row, so that its
    /// currency cannot change meanwhile), finds an invoice of the customer with the same external
    /// id instead of creating a second, and answers a key used before as
    /// [`crate::store::Creation`] says. A draft without a due date is due at `now`.
    async fn create_invoice(
        &self,
        draft: &InvoiceDraft,
        keyed: Option<KeyedRequest>,
        now: DateTime<Utc>,
    ) -> Result<InvoiceCreation, StoreError>;

    /// Creates many invoices in one transaction, as [`InvoiceStore::create_invoice`] does each
    /// (without keys): one outcome per draft, in order. Fast enough for bulk imports: a few
    /// statements per call, whatever the number of drafts.
    async fn create_invoices(
        &self,
        drafts: &[InvoiceDraft],
        now: DateTime<Utc>,
    ) -> Result<Vec<InvoiceCreation>, StoreError>;

    /// How many invoices are in each status.
    async fn count_by_status(&self) -> Result<Vec<(InvoiceStatus, u64)>, StoreError>;

    /// How many PENDING invoices are due at `now`.
    async fn count_due(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}
