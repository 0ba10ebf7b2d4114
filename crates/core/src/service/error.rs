use antaeus_models::{CustomerId, EventId, InvoiceId, RunId};
use thiserror::Error;

use crate::store::StoreError;

/// Why a service operation did not complete.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// No customer has this id.
    #[error("customer {0} not found")]
    CustomerNotFound(CustomerId),
    /// No invoice has this id.
    #[error("invoice {0} not found")]
    InvoiceNotFound(InvoiceId),
    /// No billing run has this id.
    #[error("billing run {0} not found")]
    RunNotFound(RunId),
    /// No event has this id.
    #[error("event {0} not found")]
    EventNotFound(EventId),
    /// The invoice is being charged right now; try again when the charge has ended.
    #[error("invoice {0} is being charged right now; retry it once the charge has ended")]
    InvoiceCharging(InvoiceId),
    /// The invoice is paid: there is nothing to retry or void.
    #[error("invoice {0} is paid")]
    InvoicePaid(InvoiceId),
    /// The invoice is void: it is never charged.
    #[error("invoice {0} is void; it is never charged")]
    InvoiceVoid(InvoiceId),
    /// Starting a run failed.
    #[error(transparent)]
    Billing(#[from] crate::billing::BillingError),
    /// Storage failed; the operation may succeed later.
    #[error(transparent)]
    Store(#[from] StoreError),
}
