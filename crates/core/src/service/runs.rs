use std::sync::Arc;

use antaeus_models::{BillingRun, CallCounts, PageRequest, RunId, RunStatus};
use chrono::{DateTime, Utc};

use super::ServiceError;
use super::kept_counts::KeptCounts;
use crate::Clock;
use crate::billing::{RunExecutor, RunRequest, Triggered};
use crate::store::{AttemptStore, InvoiceStore, RunStore};

/// A run with what is only known by counting: its provider calls by outcome and, while it runs,
/// how many invoices are still due. The run itself (its counts by invoice included) is read
/// live; the two counts may be a little older on a large run (see `counted_at`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunView {
    /// The run.
    pub run: BillingRun,
    /// Its provider calls by outcome.
    pub calls: CallCounts,
    /// While RUNNING: invoices due and not yet claimed.
    pub remaining: Option<u64>,
    /// When `calls` and `remaining` were counted. They count every call of the run and every
    /// due invoice, costly on a large run, so a count is served again for ten times what it
    /// cost, 15 s at most, however many clients poll.
    pub counted_at: DateTime<Utc>,
}

/// Each run's calls and what is still due (while it runs), by the run and its status.
type RunFigures = KeptCounts<(RunId, RunStatus), (CallCounts, Option<u64>)>;

/// Starts billing runs and reports on them.
#[derive(Clone)]
pub struct RunService {
    runs: Arc<dyn RunStore>,
    attempts: Arc<dyn AttemptStore>,
    invoices: Arc<dyn InvoiceStore>,
    executor: Arc<RunExecutor>,
    clock: Arc<dyn Clock>,
    figures: Arc<RunFigures>,
}

impl RunService {
    /// A service over these stores, starting runs through `executor`.
    pub fn new(
        runs: Arc<dyn RunStore>,
        attempts: Arc<dyn AttemptStore>,
        invoices: Arc<dyn InvoiceStore>,
        executor: Arc<RunExecutor>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            runs,
            attempts,
            invoices,
            executor,
            figures: Arc::new(KeptCounts::new(clock.clone())),
            clock,
        }
    }

    /// Starts the run `request` names in the background (see [`RunExecutor::trigger`]).
    pub async fn trigger(&self, request: &RunRequest) -> Result<Triggered, ServiceError> {
        Ok(self.executor.trigger(request).await?)
    }

    /// One page of runs, newest first.
    pub async fn list(&self, page: PageRequest<RunId>) -> Result<Vec<BillingRun>, ServiceError> {
        Ok(self.runs.list_runs(page).await?)
    }

    /// The run with its counted figures (see [`RunView::counted_at`]).
    pub async fn fetch(&self, id: RunId) -> Result<RunView, ServiceError> {
        let run = self
            .runs
            .fetch_run(id)
            .await?
            .ok_or(ServiceError::RunNotFound(id))?;
        let running = run.status == RunStatus::Running;
        let counted = self
            .figures
            .get((id, run.status), || async {
                let calls = self.attempts.run_calls(id).await?;
                let remaining = if running {
                    Some(self.invoices.count_due(self.clock.now()).await?)
                } else {
                    None
                };
                Ok((calls, remaining))
            })
            .await?;
        Ok(RunView {
            run,
            calls: counted.value.0,
            remaining: counted.value.1,
            counted_at: counted.at,
        })
    }
}

#[cfg(test)]
#[path = "runs_tests.rs"]
mod tests;
