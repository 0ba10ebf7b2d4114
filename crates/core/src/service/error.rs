use antaeus_models::{CustomerId, InvoiceId};
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
    /// Storage failed; the operation may succeed later.
    #[error(transparent)]
    Store(#[from] StoreError),
}
