use thiserror::Error;

/// Why a raw value could not become a domain value.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ModelError {
    /// The text is not one of the names an enumeration accepts (a currency, a status, …).
    #[error("unknown {what} {value:?}: expected one of {expected}")]
    Unknown {
        /// What was being parsed, e.g. `"currency"`.
        what: &'static str,
        /// The text given.
        value: String,
        /// The accepted names, comma-separated.
        expected: String,
    },
    /// Ids are positive 64-bit integers.
    #[error("invalid id {0:?}: expected a positive integer")]
    InvalidId(String),
    /// An amount that does not fit the currency's minor unit or the storage range.
    #[error("invalid amount {0}: {1}")]
    InvalidAmount(String, &'static str),
    /// An amount above the largest one invoice may have in its currency.
    #[error("{amount} is above the largest amount Antaeus bills ({limit})")]
    AmountAboveLimit {
        /// The amount given.
        amount: String,
        /// The largest amount in its currency.
        limit: crate::Money,
    },
    /// An idempotency key that is empty, too long or not visible ASCII.
    #[error("invalid idempotency key {0:?}: expected 1 to 255 visible ASCII characters")]
    InvalidIdempotencyKey(String),
    /// An instance id that is empty, too long or not visible ASCII.
    #[error("invalid instance id {0:?}: expected 1 to 100 visible ASCII characters")]
    InvalidInstanceId(String),
    /// An event id that is empty, too long or not visible ASCII.
    #[error("invalid event id {0:?}: expected 1 to 255 visible ASCII characters")]
    InvalidEventId(String),
    /// An external id that is empty, too long or not visible ASCII.
    #[error("invalid external id {0:?}: expected 1 to 255 visible ASCII characters")]
    InvalidExternalId(String),
    /// A page size outside `1..=PageLimit::MAX`.
    #[error("invalid limit {0:?}: expected an integer from 1 to {max}", max = crate::PageLimit::MAX)]
    InvalidLimit(String),
}
