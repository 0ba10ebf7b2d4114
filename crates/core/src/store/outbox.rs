//! The outbox: events written with the state change they describe, delivered afterwards.

use antaeus_models::Notification;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::StoreError;

/// An event waiting for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// The outbox row.
    pub seq: i64,
    /// The event.
    pub notification: Notification,
    /// Failed deliveries so far.
    pub failures: u32,
}

/// Reads and settles outbox events.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Takes up to `limit` undelivered events that are due, oldest first, and hides them from
    /// other workers for `lease` (delivery is at least once; the lease only avoids duplicates).
    async fn take_due_events(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: TimeDelta,
    ) -> Result<Vec<OutboxEvent>, StoreError>;

    /// Marks an event delivered.
    async fn mark_delivered(&self, seq: i64, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records a failed delivery and when to try again.
    async fn mark_failed(
        &self,
        seq: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Undelivered events.
    async fn outbox_backlog(&self) -> Result<u64, StoreError>;
}
