use thiserror::Error;

/// A boxed error from a storage backend, kept as the source of a [`StoreError`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a storage operation did not complete.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The database could not be reached or no connection was free in time; worth retrying.
    #[error("storage is unavailable")]
    Unavailable(#[source] BoxError),
    /// The database refused or failed the operation.
    #[error("storage operation failed")]
    Failed(#[source] BoxError),
    /// A stored row does not make a valid domain value (e.g. an unknown currency code).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
}
