//! Events as the outbox keeps them: what the event listing shows and redelivery returns.

use chrono::{DateTime, Utc};

use crate::EventSeq;

string_enum! {
    /// Where an event is in its delivery.
    pub enum EventStatus ("event status") {
        /// Waiting for its first or next delivery.
        Pending = "pending",
        /// A receiver took it.
        Delivered = "delivered",
        /// Its delivery failed too often; it waits for an operator to re-queue it.
        Dead = "dead",
    }
}

/// Which events a listing returns; `None` does not filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only events in this status.
    pub status: Option<EventStatus>,
    /// Only events about this invoice.
    pub invoice_id: Option<crate::InvoiceId>,
    /// Only events of this type.
    pub kind: Option<crate::EventKind>,
    /// Only events up to this one (`seq` at most): bounds a search to a window of the outbox,
    /// as `InvoiceFilter::up_to` does for invoices.
    pub up_to: Option<EventSeq>,
}

/// One event with its delivery state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Its position in the outbox (the listing's cursor).
    pub seq: EventSeq,
    /// The id receivers see.
    pub id: String,
    /// The event type as stored (possibly one this version does not know).
    pub kind: String,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
    /// Pending, delivered or dead.
    pub status: EventStatus,
    /// Failed deliveries since it was written or last re-queued.
    pub failures: u32,
    /// Why the last delivery failed.
    pub last_error: Option<String>,
    /// While pending: when it is next tried.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was given up.
    pub dead_at: Option<DateTime<Utc>>,
    /// The stored payload: the JSON body receivers get, when it is readable.
    pub payload: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_lowercase_and_unknown_ones_are_refused() {
        for status in EventStatus::ALL {
            assert_eq!(status.as_str().parse::<EventStatus>(), Ok(*status));
        }
        let err = "DEAD".parse::<EventStatus>().unwrap_err().to_string();
        assert!(err.contains("pending, delivered, dead"), "{err}");
    }
}
