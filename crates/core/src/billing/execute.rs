//! Driving one run: its heartbeat, the pipeline, and how the run is left when it stops.

use antaeus_models::{BillingRun, InstanceId, RunStatus};

use super::heartbeat::Heartbeat;
use super::run_driver::{self, DriveEnd, OnStop};
use super::{BillingError, BillingService};
use crate::Shutdown;
use crate::error_report::one_line;

impl BillingService {
    /// Drives a RUNNING run to its end and returns it as it ended: COMPLETED, or ABORTED with
    /// the reason (a shutdown aborts it). A run that already ended is returned unchanged. A run
    /// stopped by storage trouble is handed over instead: returned still RUNNING, with why it
    /// stopped in `abort_reason` (not stored), for any live instance (this one too, once the
    /// database answers) to resume.
    pub async fn execute(
        &self,
        run: BillingRun,
        shutdown: Shutdown,
    ) -> Result<BillingRun, BillingError> {
        self.execute_with(run, shutdown, OnStop::Abort).await
    }

    /// [`BillingService::execute`], with what a shutdown does to the run: `OnStop::HandOver`
    /// leaves it RUNNING for another live instance to resume, so that a deploy never ends a run
    /// half-way (what `serve` does on SIGTERM).
    pub async fn execute_with(
        &self,
        run: BillingRun,
        shutdown: Shutdown,
        on_shutdown: OnStop,
    ) -> Result<BillingRun, BillingError> {
        if run.status != RunStatus::Running {
            return Ok(run);
        }
        let worker =
            InstanceId::parse(run.instance_id.clone()).unwrap_or_else(|_| self.new_worker_id());
        log::info!(
            "billing run {} ({}, key {}) started",
            run.id,
            run.trigger,
            run.idempotency_key
        );
        metrics::counter!("antaeus_runs_started_total", "trigger" => run.trigger.as_str())
            .increment(1);
        let first_beat = tokio::time::Instant::now();
        let end = match self.deps.instances.heartbeat(&worker).await {
            Err(err) => DriveEnd::HandedOver(format!("storage unavailable: {}", one_line(&err))),
            Ok(()) => {
                let heartbeat = Heartbeat::start(
                    self.deps.instances.clone(),
                    worker.clone(),
                    self.config.heartbeat_interval(),
                    first_beat,
                );
                let end = run_driver::drive(
                    &self.deps,
                    &self.config,
                    &self.breaker,
                    &run,
                    worker.clone(),
                    heartbeat.status(),
                    shutdown,
                    on_shutdown,
                )
                .await;
                heartbeat.stop().await;
                end
            }
        };
        match end {
            DriveEnd::HandedOver(reason) => {
                // Retired, the instance no longer holds the run (nor its claims): whoever
                // looks for abandoned runs next takes it over.
                self.retire(&worker).await;
                metrics::counter!("antaeus_runs_handed_over_total").increment(1);
                log::warn!(
                    "billing run {} stopped here ({reason}); it stays RUNNING and a live instance resumes it",
                    run.id
                );
                // Returned RUNNING, with why it stopped here (not stored: the run goes on).
                let now = self.deps.runs.fetch_run(run.id).await;
                Ok(BillingRun {
                    abort_reason: Some(reason),
                    ..now.ok().flatten().unwrap_or(run)
                })
            }
            DriveEnd::Ended(end) => {
                // End the run before retiring its instance: a RUNNING run without a live
                // instance is one that others would adopt.
                let ended = self.deps.runs.finish_run(run.id, &end).await;
                self.retire(&worker).await;
                let ended = ended?;
                log_end(&ended);
                Ok(ended)
            }
        }
    }

    async fn retire(&self, worker: &InstanceId) {
        if let Err(err) = self.deps.instances.retire(worker).await {
            log::warn!(
                "could not retire instance {worker}: {}; it goes stale in {:?}",
                one_line(&err),
                self.config.lease_timeout
            );
        }
    }
}

fn log_end(ended: &BillingRun) {
    metrics::counter!("antaeus_runs_completed_total", "status" => ended.status.as_str())
        .increment(1);
    let c = ended.counts;
    let counts = format!(
        "{} claimed, {} paid, {} declined, {} failed, {} retry scheduled, {} released",
        c.claimed, c.paid, c.declined, c.failed, c.retry_scheduled, c.released
    );
    match &ended.abort_reason {
        None => log::info!("billing run {} completed: {counts}", ended.id),
        Some(reason) => log::warn!("billing run {} aborted ({reason}): {counts}", ended.id),
    }
}
