//! A run's page: the run, its calls by outcome over time, the calls that did not charge.

use antaeus_models::{AttemptOutcome, BillingRun, CallCounts, RunId, RunMinute};

use super::ConsoleService;
use crate::service::ServiceError;
use crate::store::ProblemCall;

/// Everything a run's page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunPage {
    /// The run.
    pub run: BillingRun,
    /// Its finished provider calls by outcome (from the maintained per-minute totals).
    pub calls: CallCounts,
    /// Its calls by minute and outcome, oldest first: the chart.
    pub minutes: Vec<RunMinute>,
    /// One page of its calls that did not charge.
    pub problems: Vec<ProblemCall>,
    /// Where the next page of problems starts, when there may be one.
    pub next_problems: Option<i64>,
}

impl ConsoleService {
    /// Run `id`'s page, with up to `limit` problem calls after `after`.
    pub async fn run_page(
        &self,
        id: RunId,
        after: Option<i64>,
        limit: u16,
    ) -> Result<RunPage, ServiceError> {
        let deps = &self.deps;
        let run = deps
            .runs
            .fetch_run(id)
            .await?
            .ok_or(ServiceError::RunNotFound(id))?;
        let minutes = deps.stats.run_stats(id).await?;
        let problems = deps.console.run_problems(id, after, limit).await?;
        let next_problems = (problems.len() >= usize::from(limit).max(1))
            .then(|| problems.last().map(|p| p.cursor))
            .flatten();
        Ok(RunPage {
            run,
            calls: calls_by_outcome(&minutes),
            minutes,
            problems,
            next_problems,
        })
    }
}

/// Adds a run's per-minute totals up by outcome, in [`AttemptOutcome::ALL`] order, zeros
/// omitted.
pub(super) fn calls_by_outcome(minutes: &[RunMinute]) -> CallCounts {
    let by_outcome = AttemptOutcome::ALL
        .iter()
        .map(|outcome| {
            let n = minutes
                .iter()
                .filter(|m| m.outcome == *outcome)
                .map(|m| m.calls)
                .sum::<u64>();
            (*outcome, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    CallCounts {
        by_outcome,
        in_flight: 0,
    }
}
