//! Live instances, whose heartbeats keep their claims valid.

use antaeus_models::InstanceId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// Registers instances and their heartbeats.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait InstanceStore: Send + Sync {
    /// Records that `instance` is alive at `now` (registering it on the first beat).
    async fn heartbeat(&self, instance: &InstanceId, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Removes `instance` on a clean stop: any claim it still holds is stale at once.
    async fn retire(&self, instance: &InstanceId) -> Result<(), StoreError>;
}
