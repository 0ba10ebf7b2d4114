use std::sync::Arc;

use antaeus_models::{BillingRun, CallCounts, PageRequest, RunId, RunStatus};

use super::ServiceError;
use crate::Clock;
use crate::billing::{RunExecutor, RunRequest, Triggered};
use crate::store::{AttemptStore, InvoiceStore, RunStore};

/// A run with what is only known live: its provider calls by outcome and, while it runs, how
/// many invoices are still due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunView {
    /// The run.
    pub run: BillingRun,
    /// Its provider calls by outcome.
    pub calls: CallCounts,
    /// While RUNNING: invoices due and not yet claimed.
    pub remaining: Option<u64>,
}

/// Starts billing runs and reports on them.
#[derive(Clone)]
pub struct RunService {
    runs: Arc<dyn RunStore>,
    attempts: Arc<dyn AttemptStore>,
    invoices: Arc<dyn InvoiceStore>,
    executor: Arc<RunExecutor>,
    clock: Arc<dyn Clock>,
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

    /// The run with its live figures.
    pub async fn fetch(&self, id: RunId) -> Result<RunView, ServiceError> {
        let run = self
            .runs
            .fetch_run(id)
            .await?
            .ok_or(ServiceError::RunNotFound(id))?;
        let calls = self.attempts.run_calls(id).await?;
        let remaining = if run.status == RunStatus::Running {
            Some(self.invoices.count_due(self.clock.now()).await?)
        } else {
            None
        };
        Ok(RunView {
            run,
            calls,
            remaining,
        })
    }
}
