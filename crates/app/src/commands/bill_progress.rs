//! `antaeus bill`'s progress bar: while a run executes, its counts are read from storage every
//! [`POLL`] (claimed, paid, declined, failed) with the rate of invoices settled. Drawn only on
//! a terminal; otherwise nothing is polled and the summary is all that is printed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use antaeus_core::store::RunStore;
use antaeus_models::{BillingRun, RunId};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::progress::{Progress, per_second};

/// How often the run's counts are read.
pub const POLL: Duration = Duration::from_millis(200);

/// Watches a run's counts while it executes.
pub struct RunProgress {
    watching: Option<(oneshot::Sender<()>, JoinHandle<()>)>,
}

impl RunProgress {
    /// Watches run `id` in `runs`, when stderr is a terminal.
    pub fn watch(runs: Arc<dyn RunStore>, id: RunId) -> Self {
        let progress = Progress::on_terminal(None);
        if !progress.is_shown() {
            return Self { watching: None };
        }
        let (stop, mut stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            loop {
                // A failed read leaves the bar as it was; the run reports its own trouble.
                if let Ok(Some(run)) = runs.fetch_run(id).await {
                    let settled = settled(&run);
                    progress.update(settled, || line(&run, settled, started.elapsed()));
                }
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
            progress.finish();
        });
        Self {
            watching: Some((stop, task)),
        }
    }

    /// Stops watching and removes the bar (before the summary is printed).
    pub async fn stop(self) {
        if let Some((stop, task)) = self.watching {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}

/// Invoices the run has finished with, whichever way.
fn settled(run: &BillingRun) -> u64 {
    let c = run.counts;
    c.paid + c.declined + c.failed + c.retry_scheduled + c.released
}

/// `run 7: 1200 claimed, 980 paid, 120 declined, 12 failed (4100 invoices/s)`.
fn line(run: &BillingRun, settled: u64, elapsed: Duration) -> String {
    let c = run.counts;
    format!(
        "run {}: {} claimed, {} paid, {} declined, {} failed ({:.0} invoices/s)",
        run.id,
        c.claimed,
        c.paid,
        c.declined,
        c.failed,
        per_second(settled, elapsed)
    )
}

#[cfg(test)]
mod tests {
    use antaeus_models::{IdempotencyKey, RunCounts, RunScope, RunStatus, RunTrigger};

    use super::*;

    #[test]
    fn the_line_shows_the_counts_and_the_rate_of_settled_invoices() {
        let mut run = BillingRun {
            id: RunId::new(7).unwrap(),
            idempotency_key: IdempotencyKey::parse("k").unwrap(),
            trigger: RunTrigger::Cli,
            scope: RunScope::All,
            status: RunStatus::Running,
            instance_id: "i".into(),
            started_at: chrono::DateTime::UNIX_EPOCH,
            finished_at: None,
            abort_reason: None,
            counts: RunCounts::default(),
            request_fingerprint: None,
        };
        run.counts = RunCounts {
            claimed: 1_200,
            paid: 980,
            declined: 120,
            failed: 12,
            retry_scheduled: 8,
            released: 0,
        };
        assert_eq!(settled(&run), 1_120);
        assert_eq!(
            line(&run, settled(&run), Duration::from_secs(2)),
            "run 7: 1200 claimed, 980 paid, 120 declined, 12 failed (560 invoices/s)"
        );
    }
}
