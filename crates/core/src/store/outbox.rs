//! The outbox: events written with the state change they describe, delivered afterwards.

use antaeus_models::Notification;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::StoreError;

/// An event taken for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// The outbox row.
    pub seq: i64,
    /// The event's id, as receivers see it; known even when its payload is not readable.
    pub id: String,
    /// The event, or why its stored payload cannot be read (a type only a newer version knows,
    /// a broken writer): such an event counts as a failed delivery, so it never blocks others.
    pub notification: Result<Notification, String>,
    /// Failed deliveries so far.
    pub failures: u32,
}

/// Reads and settles outbox events.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Takes up to `limit` pending events that are due, oldest first, and hides them from
    /// other workers for `lease` (delivery is at least once; the lease only avoids duplicates).
    /// A row whose payload cannot be read is taken like any other, never failing the take.
    async fn take_due_events(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: TimeDelta,
    ) -> Result<Vec<OutboxEvent>, StoreError>;

    /// Marks the events `seqs` delivered, in one write (a round's deliveries together).
    async fn mark_delivered(&self, seqs: &[i64], now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records a failed delivery and when to try again.
    async fn mark_failed(
        &self,
        seq: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Records a failed delivery after which the event is dead: never taken again until an
    /// operator re-queues it.
    async fn mark_dead(&self, seq: i64, error: &str, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Pending events (delivered and dead ones are not waiting).
    async fn outbox_backlog(&self) -> Result<u64, StoreError>;

    /// Dead events.
    async fn dead_events(&self) -> Result<u64, StoreError>;
}
