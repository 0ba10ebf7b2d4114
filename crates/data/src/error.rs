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

/// SQLite's message for `SQLITE_FULL`; we set no page limit, so only a full disk causes it.
pub(crate) const SQLITE_FULL: &str = "database or disk is full";

/// A write failed because the file system holding the database has no space left.
#[derive(Debug, Error)]
#[error("no space left on the disk holding the database")]
pub(crate) struct DiskFull(#[source] DieselError);

/// Maps a diesel error to a [`StoreError`]: lost connections, lock timeouts and a full disk
/// are `Unavailable` (worth retrying: freeing space ends the outage), everything else `Failed`.
pub(crate) fn store_error(err: DieselError) -> StoreError {
    if let DieselError::DatabaseError(_, info) = &err
        && info.message().contains(SQLITE_FULL)
    {
        return StoreError::Unavailable(Box::new(DiskFull(err)));
    }
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

#[cfg(test)]
mod tests {
    use diesel::result::DatabaseErrorKind;

    use super::*;

    fn sqlite_error(message: &str) -> DieselError {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_string()))
    }

    #[test]
    fn a_full_disk_is_named_and_worth_retrying() {
        let err = store_error(sqlite_error("database or disk is full"));
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        assert_eq!(
            one_line(&err),
            "storage is unavailable: no space left on the disk holding the database: database or disk is full"
        );
    }

    #[test]
    fn other_refusals_fail_as_before() {
        let err = store_error(sqlite_error("no such table: invoices"));
        assert!(matches!(err, StoreError::Failed(_)), "{err:?}");
        assert!(matches!(
            store_error(sqlite_error("database is locked")),
            StoreError::Unavailable(_)
        ));
    }
}
