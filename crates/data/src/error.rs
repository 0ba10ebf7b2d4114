use antaeus_core::store::StoreError;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use thiserror::Error;

/// Why the database could not be opened, migrated or seeded.
#[derive(Debug, Error)]
pub enum DataError {
    /// The database URL is malformed or names an unsupported engine.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database could not be opened or reached.
    #[error("cannot open database {url}: {reason}")]
    Open {
        /// The URL, password redacted.
        url: String,
        /// What the driver said, on one line.
        reason: String,
    },
    /// Applying the schema migrations failed.
    #[error("cannot migrate database {url}: {reason}")]
    Migrate {
        /// The URL, password redacted.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A storage operation failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Maps a diesel error to a [`StoreError`]: lost connections and lock timeouts are
/// `Unavailable` (worth retrying), everything else `Failed`.
pub(crate) fn store_error(err: DieselError) -> StoreError {
    let retryable = match &err {
        DieselError::DatabaseError(kind, info) => {
            matches!(
                kind,
                DatabaseErrorKind::ClosedConnection
                    | DatabaseErrorKind::UnableToSendCommand
                    | DatabaseErrorKind::SerializationFailure
            ) || info.message().contains("database is locked")
                || info.message().contains("database is busy")
        }
        _ => false,
    };
    if retryable {
        StoreError::Unavailable(Box::new(err))
    } else {
        StoreError::Failed(Box::new(err))
    }
}

/// A connection could not be taken from the pool in time.
pub(crate) fn pool_unavailable(err: diesel::r2d2::PoolError) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

pub(crate) use antaeus_core::error_report::one_line;
