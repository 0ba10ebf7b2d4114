//! Billing runs.

use antaeus_models::{
    BillingRun, IdempotencyKey, InstanceId, PageRequest, RunId, RunScope, RunStatus, RunTrigger,
};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use super::StoreError;

/// A run to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// Names the run: creating a run with a key that exists returns the existing run.
    pub idempotency_key: IdempotencyKey,
    /// What starts it.
    pub trigger: RunTrigger,
    /// The instance that will drive it (registered as alive in the same transaction).
    pub instance: InstanceId,
    /// When it starts.
    pub now: DateTime<Utc>,
    /// Identifies the request (see [`BillingRun::request_fingerprint`]).
    pub request_fingerprint: String,
    /// Which due invoices it charges.
    pub scope: RunScope,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunEnd {
    /// COMPLETED or ABORTED.
    pub status: RunStatus,
    /// Why it was aborted.
    pub abort_reason: Option<String>,
    /// When it ended.
    pub now: DateTime<Utc>,
}

/// Creates, ends and reads billing runs.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RunStore: Send + Sync {
    /// Creates the run, or returns the run that already has its key; `true` when created.
    /// Safe under concurrent calls with the same key: exactly one creates.
    async fn create_run(&self, run: &NewRun) -> Result<(BillingRun, bool), StoreError>;

    /// Ends a RUNNING run and, in the same transaction, puts its `run.completed` event in the
    /// outbox. Ending a run that already ended changes nothing and returns it.
    async fn finish_run(&self, id: RunId, end: &RunEnd) -> Result<BillingRun, StoreError>;

    /// The run with this id, if any.
    async fn fetch_run(&self, id: RunId) -> Result<Option<BillingRun>, StoreError>;

    /// One page of runs, newest first: with `page.after`, only runs older than that one.
    async fn list_runs(&self, page: PageRequest<RunId>) -> Result<Vec<BillingRun>, StoreError>;

    /// RUNNING runs whose instance has not heartbeated for `lease_timeout` (by the store's
    /// clock), oldest first, at most `limit`: runs to resume.
    async fn abandoned_runs(
        &self,
        lease_timeout: TimeDelta,
        limit: u32,
    ) -> Result<Vec<RunId>, StoreError>;

    /// Hands a RUNNING run whose instance stopped heartbeating (for `lease_timeout`, by the
    /// store's clock) to `instance`, registering it as alive; `None` if the run is not RUNNING
    /// or its instance is alive. Two instances adopting at once: one wins.
    async fn adopt_run(
        &self,
        id: RunId,
        instance: &InstanceId,
        lease_timeout: TimeDelta,
    ) -> Result<Option<BillingRun>, StoreError>;
}
