//! Drives one billing run: claims due invoices while there are free charging slots, hands each
//! to a charging task, and drains until nothing due is left unprocessed.

use std::sync::Arc;
use std::time::Duration;

use antaeus_models::{BillingRun, InstanceId, RunStatus};
use chrono::TimeDelta;
use tokio::task::JoinSet;

use super::charge::{ChargeContext, charge};
use super::heartbeat::HeartbeatStatus;
use super::journal_writer::JournalWriter;
use super::service::BillingDeps;
use super::{BillingConfig, BreakerState, CircuitBreaker};
use crate::Shutdown;
use crate::error_report::one_line;
use crate::store::{ClaimRequest, RunEnd};

/// Consecutive failed claims (storage errors) before a run gives up.
const CLAIM_FAILURES_BEFORE_ABORT: u32 = 10;

/// Runs `run` as `worker` until it completes or aborts; returns how it ended.
pub(crate) async fn drive(
    deps: &BillingDeps,
    config: &BillingConfig,
    breaker: &Arc<CircuitBreaker>,
    run: &BillingRun,
    worker: InstanceId,
    heartbeat: &HeartbeatStatus,
    mut shutdown: Shutdown,
) -> RunEnd {
    let lease_timeout = TimeDelta::from_std(config.lease_timeout).unwrap_or(TimeDelta::seconds(30));
    let (writer, writer_task) =
        JournalWriter::spawn(deps.billing.clone(), worker.clone(), config.journal);
    let ctx = Arc::new(ChargeContext {
        provider: deps.provider.clone(),
        clock: deps.clock.clone(),
        random: deps.random.clone(),
        breaker: breaker.clone(),
        writer: writer.clone(),
        config: config.clone(),
        run: run.id,
        shutdown: shutdown.clone(),
    });
    let mut tasks = JoinSet::new();
    let batch_goal = (config.concurrency / 8).clamp(1, config.max_claim as usize);
    let mut claim_failures = 0;

    let mut panicked = false;
    let started = tokio::time::Instant::now();
    let abort_reason: Option<String> = loop {
        while let Some(done) = tasks.try_join_next() {
            panicked |= log_task_end(done);
        }
        if shutdown.is_requested() {
            break Some("shutdown requested".into());
        }
        if writer.has_failed() {
            break Some(
                "outcomes could not be recorded; the run's claims will be taken over".into(),
            );
        }
        if panicked {
            break Some("a charging task failed; the run's claims will be taken over".into());
        }
        if heartbeat.age() > config.lease_timeout {
            // Others may take our claims over now: stop dispatching and let them.
            break Some(
                "heartbeats are failing; stopping so that others take the claims over".into(),
            );
        }
        // An outage counts from this run's start: a breaker left open by an earlier run gets
        // its probe before this run gives up.
        if let Some(outage) = breaker.outage_duration().map(|o| o.min(started.elapsed()))
            && outage > config.max_outage
        {
            break Some(format!(
                "the payment provider has been failing for {}s",
                outage.as_secs()
            ));
        }
        let limit = match breaker.state() {
            BreakerState::Closed => {
                let free = config.concurrency.saturating_sub(tasks.len());
                if free < batch_goal && !tasks.is_empty() {
                    panicked |= wait_for_task(&mut tasks, &mut shutdown, config.drain_poll).await;
                    continue;
                }
                free.min(config.max_claim as usize)
            }
            BreakerState::HalfOpen if tasks.is_empty() => 1,
            BreakerState::HalfOpen | BreakerState::Open => {
                let pause = breaker
                    .until_probe()
                    .clamp(Duration::from_millis(10), config.drain_poll);
                panicked |= wait_for_task(&mut tasks, &mut shutdown, pause).await;
                continue;
            }
        };
        let request = ClaimRequest {
            instance: worker.clone(),
            run: run.id,
            now: deps.clock.now(),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            lease_timeout,
        };
        let claimed = match deps.billing.claim(&request).await {
            Ok(claimed) => {
                claim_failures = 0;
                claimed
            }
            Err(err) => {
                claim_failures += 1;
                log::warn!(
                    "run {}: claiming failed ({claim_failures}): {}",
                    run.id,
                    one_line(&err)
                );
                if claim_failures >= CLAIM_FAILURES_BEFORE_ABORT {
                    break Some(format!("storage unavailable: {}", one_line(&err)));
                }
                panicked |= wait_for_task(&mut tasks, &mut shutdown, config.drain_poll).await;
                continue;
            }
        };
        if claimed.is_empty() {
            if !tasks.is_empty() {
                panicked |= wait_for_task(&mut tasks, &mut shutdown, config.drain_poll).await;
                continue;
            }
            // Make our own finished claims visible before judging what is left.
            writer.flush().await;
            match deps.billing.backlog(deps.clock.now(), &worker).await {
                Ok(backlog) if backlog.claimed_here > 0 => {
                    // Nothing is in flight here, so these claims lost their charge (a failed
                    // write): stop, and let whoever comes next take them over.
                    break Some(format!(
                        "{} claims of this run have no charge in flight",
                        backlog.claimed_here
                    ));
                }
                Ok(backlog) if !backlog.due && backlog.claimed_elsewhere == 0 => break None,
                Ok(backlog) => log::debug!(
                    "run {}: waiting for {} claims held elsewhere (due left: {})",
                    run.id,
                    backlog.claimed_elsewhere,
                    backlog.due
                ),
                Err(err) => log::warn!(
                    "run {}: reading the backlog failed: {}",
                    run.id,
                    one_line(&err)
                ),
            }
            panicked |= wait_for_task(&mut tasks, &mut shutdown, config.drain_poll).await;
            continue;
        }
        for invoice in claimed {
            tasks.spawn(charge(ctx.clone(), invoice));
        }
    };

    finish_tasks(&mut tasks, abort_reason.is_some(), config.shutdown_grace).await;
    drop(ctx);
    writer.flush().await;
    drop(writer);
    let written = writer_task.await.unwrap_or(false);
    let abort_reason = match (abort_reason, written) {
        (Some(reason), _) => Some(reason),
        (None, false) => {
            Some("some outcomes could not be recorded; their claims will be taken over".into())
        }
        (None, true) => None,
    };
    RunEnd {
        status: if abort_reason.is_some() {
            RunStatus::Aborted
        } else {
            RunStatus::Completed
        },
        abort_reason,
        now: deps.clock.now(),
    }
}

/// Waits for a charging task to end, for `pause`, or for shutdown, whichever comes first;
/// returns whether a task panicked.
async fn wait_for_task(tasks: &mut JoinSet<()>, shutdown: &mut Shutdown, pause: Duration) -> bool {
    tokio::select! {
        Some(done) = tasks.join_next(), if !tasks.is_empty() => log_task_end(done),
        () = tokio::time::sleep(pause) => false,
        () = shutdown.requested() => false,
    }
}

/// Lets the charging tasks end; when stopping early, those still running after `grace` are
/// cancelled (their claims stay open with their keys, and are resent by whoever takes them over).
async fn finish_tasks(tasks: &mut JoinSet<()>, stopping: bool, grace: Duration) {
    if !stopping {
        while let Some(done) = tasks.join_next().await {
            log_task_end(done);
        }
        return;
    }
    let deadline = tokio::time::Instant::now() + grace;
    while !tasks.is_empty() {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(done)) => {
                log_task_end(done);
            }
            Ok(None) => break,
            Err(_) => {
                log::warn!(
                    "{} charges still in flight after {grace:?}: cancelling them; their keys will be resent",
                    tasks.len()
                );
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    }
}

/// Logs a task that panicked; returns whether it did.
fn log_task_end(done: Result<(), tokio::task::JoinError>) -> bool {
    match done {
        Err(err) if err.is_panic() => {
            log::error!("a charging task panicked: {err}; its claim will be taken over");
            true
        }
        _ => false,
    }
}
