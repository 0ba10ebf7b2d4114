//! Live instances, whose heartbeats keep their claims valid.

use antaeus_models::InstanceId;
use async_trait::async_trait;

use super::StoreError;

/// Registers instances and their heartbeats.
///
/// Heartbeats are written, and judged stale, with the store's own clock, never with the
/// instances' clocks: instances whose clocks disagree still agree on who is alive.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait InstanceStore: Send + Sync {
    /// Records that `instance` is alive now, by the store's clock (registering it on the first
    /// beat).
    async fn heartbeat(&self, instance: &InstanceId) -> Result<(), StoreError>;

    /// Removes `instance` on a clean stop: any claim it still holds is stale at once.
    async fn retire(&self, instance: &InstanceId) -> Result<(), StoreError>;
}
