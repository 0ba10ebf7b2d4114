//! The outbox as operators see it: events listed by status, and dead ones re-queued.

use antaeus_models::{EventFilter, EventId, EventRecord, EventSeq, EventStatus, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// An event re-queued for delivery, and the status it had before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redelivered {
    /// The event, now pending and due.
    pub event: EventRecord,
    /// Its status before.
    pub was: EventStatus,
}

/// Lists outbox events and re-queues them.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventStore: Send + Sync {
    /// One page of the events matching `filter`, in the order they were written.
    async fn list_events(
        &self,
        filter: EventFilter,
        page: PageRequest<EventSeq>,
    ) -> Result<Vec<EventRecord>, StoreError>;

    /// Makes the event with this id pending and due at `now` with no failures, whatever its
    /// status, atomically; `None` when no event has this id.
    async fn redeliver_event(
        &self,
        id: &EventId,
        now: DateTime<Utc>,
    ) -> Result<Option<Redelivered>, StoreError>;
}
