//! What the operational endpoints ask of the service: readiness and metrics.

use async_trait::async_trait;

/// Whether the service can serve: its database reachable and migrated.
#[async_trait]
pub trait Readiness: Send + Sync {
    /// `Ok` when ready; otherwise why not, for the problem body.
    async fn check(&self) -> Result<(), String>;
}

/// The Prometheus text exposition of the service's metrics.
#[async_trait]
pub trait MetricsSource: Send + Sync {
    /// Refreshes the gauges read at scrape time and renders every metric.
    async fn render(&self) -> String;
}
