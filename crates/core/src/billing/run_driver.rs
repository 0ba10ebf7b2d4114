//! Drives one billing run: a pipeline in which claims run ahead of the charging tasks (a
//! prefetch buffer), each claimed invoice is charged by a task as soon as a slot is free, and
//! outcomes go to the journal writer; the run drains until nothing due is left unprocessed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use antaeus_models::{BillingRun, InstanceId, InvoiceId, RunStatus};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::charge::{ChargeContext, charge};
use super::charge_metrics::ChargeMetrics;
use super::heartbeat::HeartbeatStatus;
use super::journal_writer::JournalWriter;
use super::service::BillingDeps;
use super::{BillingConfig, BreakerState, CircuitBreaker};
use crate::Shutdown;
use crate::error_report::one_line;
use crate::store::{ClaimedInvoice, RunEnd, StoreError};

/// The longest the loop waits before looking at the breaker and the clocks again.
const TICK: Duration = Duration::from_millis(50);

type ClaimResult = Result<Vec<ClaimedInvoice>, StoreError>;

mod claims;
mod tasks;

use claims::{ClaimStats, next_claim};
use tasks::{finish_tasks, log_task_end};

/// What to do with a run that this instance must stop driving before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnStop {
    /// End it ABORTED: what it did not charge waits for another run.
    Abort,
    /// Leave it RUNNING for another live instance (or this one, once it can) to resume.
    HandOver,
}

/// Why a run stopped before its end, and what becomes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stop {
    reason: String,
    then: OnStop,
}

impl Stop {
    fn abort(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            then: OnStop::Abort,
        }
    }

    /// Storage trouble: the run can go on once the database answers again, here or elsewhere.
    fn hand_over(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            then: OnStop::HandOver,
        }
    }
}

/// How driving a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DriveEnd {
    /// The run ended (COMPLETED or ABORTED): record it.
    Ended(RunEnd),
    /// The run stops here but stays RUNNING, to be resumed (storage trouble, or a shutdown of
    /// an instance that hands its runs over).
    HandedOver(String),
}

/// Runs `run` as `worker` until it completes, aborts or is handed over; `on_shutdown` says
/// what a shutdown does to it.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn drive(
    deps: &BillingDeps,
    config: &BillingConfig,
    breaker: &Arc<CircuitBreaker>,
    run: &BillingRun,
    worker: InstanceId,
    heartbeat: &HeartbeatStatus,
    shutdown: Shutdown,
    on_shutdown: OnStop,
) -> DriveEnd {
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
        slots: Arc::new(Semaphore::new(config.call_slots())),
        slot_freed: Notify::new(),
        metrics: ChargeMetrics::register(),
        calls_stopped: watch::Sender::new(false),
        fatal: std::sync::Mutex::new(None),
        answered: Default::default(),
        unanswered: Default::default(),
    });
    let mut driver = Driver {
        deps,
        config,
        breaker,
        run,
        worker,
        heartbeat,
        ctx,
        shutdown,
        writer,
        tasks: JoinSet::new(),
        buffer: VecDeque::new(),
        claiming: None,
        started: Instant::now(),
        claim_failures: 0,
        panicked: false,
        fatal: None,
        last_claim_empty: false,
        next_claim_at: Instant::now(),
        fresh_cursor: None,
        look_for_stale: true,
        last_stale_check: Instant::now(),
        stats: ClaimStats::default(),
        on_shutdown,
    };
    let stop = driver.run_loop().await;
    driver.wind_down(stop.is_some()).await;
    let Driver {
        ctx,
        writer,
        stats,
        started,
        ..
    } = driver;
    let silent = never_answered(&ctx, deps);
    drop(ctx);
    writer.flush().await;
    drop(writer);
    let written = writer_task.await.unwrap_or(false);
    log::debug!(
        "run {}: {} claims of {:.0} invoices on average, {:?} claiming, {:?} in all",
        run.id,
        stats.claims,
        stats.claimed as f64 / stats.claims.max(1) as f64,
        stats.claiming,
        started.elapsed()
    );
    let stop = match (stop, written) {
        (Some(stop), _) => Some(stop),
        (None, false) => Some(Stop::hand_over(
            "some outcomes could not be recorded; their claims will be taken over",
        )),
        // Every invoice was handled, but not one call reached the provider: nothing is known
        // to be charged, and whoever runs this (a cron job) must hear of it.
        (None, true) => silent.map(Stop::abort),
    };
    let end = |status, abort_reason| {
        DriveEnd::Ended(RunEnd {
            status,
            abort_reason,
            now: deps.clock.now(),
        })
    };
    match stop {
        None => end(RunStatus::Completed, None),
        Some(Stop {
            reason,
            then: OnStop::Abort,
        }) => end(RunStatus::Aborted, Some(reason)),
        Some(Stop {
            reason,
            then: OnStop::HandOver,
        }) => DriveEnd::HandedOver(reason),
    }
}

/// Why the run must not pass for a success when the provider answered none of its calls (a
/// mistyped URL, a closed port, a provider that is down): `None` when it answered one, or when
/// no call was made.
fn never_answered(ctx: &ChargeContext, deps: &BillingDeps) -> Option<String> {
    use std::sync::atomic::Ordering;
    let unanswered = ctx.unanswered.load(Ordering::Relaxed);
    if ctx.answered.load(Ordering::Relaxed) > 0 || unanswered == 0 {
        return None;
    }
    Some(format!(
        "{} never answered: {unanswered} calls, every one a lost connection or a timeout; \
         nothing is known to be charged, and the next run resends the same keys",
        deps.provider.describe()
    ))
}

/// The state of one run's pipeline.
struct Driver<'a> {
    deps: &'a BillingDeps,
    config: &'a BillingConfig,
    breaker: &'a Arc<CircuitBreaker>,
    run: &'a BillingRun,
    worker: InstanceId,
    heartbeat: &'a HeartbeatStatus,
    ctx: Arc<ChargeContext>,
    shutdown: Shutdown,
    writer: JournalWriter,
    /// Charging tasks: at most `concurrency` in a provider call, and at most as many again
    /// waiting to resend or to hand their outcome over.
    tasks: JoinSet<()>,
    /// Claimed invoices waiting for a free slot.
    buffer: VecDeque<ClaimedInvoice>,
    /// The claim under way, and how many it asked for.
    claiming: Option<(JoinHandle<ClaimResult>, usize, Instant)>,
    started: Instant,
    claim_failures: u32,
    panicked: bool,
    /// A reason to stop found outside `reason_to_stop` (claims kept failing).
    fatal: Option<Stop>,
    /// The last claim found nothing.
    last_claim_empty: bool,
    /// No claim starts before this.
    next_claim_at: Instant,
    /// Where the next claim looks for never-tried invoices.
    fresh_cursor: Option<InvoiceId>,
    look_for_stale: bool,
    last_stale_check: Instant,
    stats: ClaimStats,
    /// What a shutdown does to the run.
    on_shutdown: OnStop,
}

impl Driver<'_> {
    /// Runs the pipeline until the run is done (`None`) or must stop (why, and what then).
    async fn run_loop(&mut self) -> Option<Stop> {
        loop {
            while let Some(done) = self.tasks.try_join_next() {
                self.panicked |= log_task_end(done);
            }
            if let Some(reason) = self.reason_to_stop() {
                return Some(reason);
            }
            self.dispatch();
            let idle = self.claiming.is_none() && self.tasks.is_empty() && self.buffer.is_empty();
            if idle && self.last_claim_empty {
                match self.drained().await {
                    Ok(true) => return None,
                    Ok(false) => {}
                    Err(reason) => return Some(Stop::hand_over(reason)),
                }
                // Others still hold claims (or rows were locked): look again shortly.
                self.last_claim_empty = false;
                self.look_for_stale = true;
                self.pause(self.config.drain_poll).await;
                continue;
            }
            if self.claiming.is_none() && Instant::now() >= self.next_claim_at {
                self.start_claim_if_useful();
            }
            self.log_pipeline();
            self.wait_for_progress().await;
        }
    }

    fn reason_to_stop(&mut self) -> Option<Stop> {
        if let Some(stop) = self.fatal.take() {
            return Some(stop);
        }
        if let Some(why) = self.ctx.fatal() {
            return Some(Stop::abort(why));
        }
        if self.shutdown.is_requested() {
            return Some(Stop {
                reason: "shutdown requested".into(),
                then: self.on_shutdown,
            });
        }
        if let Some(why) = self.writer.failure() {
            return Some(Stop::hand_over(format!(
                "outcomes could not be recorded ({why}); the run's claims will be taken over"
            )));
        }
        if self.panicked {
            return Some(Stop::abort(
                "a charging task failed; the run's claims will be taken over",
            ));
        }
        if self.heartbeat.age() > self.config.lease_timeout {
            // Others may take our claims over now: stop dispatching and let them.
            let why = self
                .heartbeat
                .last_error()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            return Some(Stop::hand_over(format!(
                "heartbeats are failing{why}; stopping so that others take the claims over"
            )));
        }
        // An outage counts from this run's start: a breaker left open by an earlier run gets
        // its probe before this run gives up.
        if let Some(outage) = self
            .breaker
            .outage_duration()
            .map(|o| o.min(self.started.elapsed()))
            && outage > self.config.max_outage
        {
            return Some(Stop::abort(format!(
                "the payment provider has been failing for {}s",
                outage.as_secs()
            )));
        }
        None
    }

    /// Waits for a task to end, the claim to return, a tick, or shutdown.
    async fn wait_for_progress(&mut self) {
        let tick = if self.breaker.state() == BreakerState::Closed {
            TICK
        } else {
            self.breaker
                .until_probe()
                .clamp(Duration::from_millis(10), TICK)
        };
        tokio::select! {
            Some(done) = self.tasks.join_next(), if !self.tasks.is_empty() => {
                self.panicked |= log_task_end(done);
            }
            () = self.ctx.slot_freed.notified() => {}
            (result, asked, began) = next_claim(&mut self.claiming), if self.claiming.is_some() => {
                self.claiming = None;
                self.fatal = self.claim_done(result, asked, began);
            }
            () = tokio::time::sleep(tick) => {}
            () = self.shutdown.requested() => {}
        }
    }

    /// Whether nothing due is left and nobody else holds a claim; an error stops the run.
    async fn drained(&mut self) -> Result<bool, String> {
        // Make our own finished claims visible before judging what is left.
        self.writer.flush().await;
        match self
            .deps
            .billing
            .backlog(self.deps.clock.now(), &self.worker, self.run.scope)
            .await
        {
            Ok(backlog) if backlog.claimed_here > 0 => {
                // Nothing is in flight here, so these claims lost their charge (a failed
                // write): stop, and let whoever comes next take them over.
                Err(format!(
                    "{} claims of this run have no charge in flight",
                    backlog.claimed_here
                ))
            }
            Ok(backlog) if !backlog.due && backlog.claimed_elsewhere == 0 => Ok(true),
            Ok(backlog) => {
                log::debug!(
                    "run {}: waiting for {} claims held elsewhere (due left: {})",
                    self.run.id,
                    backlog.claimed_elsewhere,
                    backlog.due
                );
                Ok(false)
            }
            Err(err) => {
                log::warn!(
                    "run {}: reading the backlog failed: {}",
                    self.run.id,
                    one_line(&err)
                );
                Ok(false)
            }
        }
    }

    async fn pause(&mut self, pause: Duration) {
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = self.shutdown.requested() => {}
        }
    }

    /// Ends the pipeline. Stopping early, claims not yet sent are released (their tasks see
    /// the stop before calling) and calls in flight get the grace period; otherwise every task
    /// runs to its end.
    async fn wind_down(&mut self, stopping: bool) {
        if stopping {
            // Closing the call slots stops every task before its next call; tasks waiting for a
            // slot to resend would otherwise wait out the grace period behind calls that may
            // hang, and be cancelled with their claims unreleased.
            self.ctx.stop_calls();
            if let Some((handle, _, _)) = self.claiming.take()
                && let Ok(Ok(claimed)) = handle.await
            {
                self.buffer.extend(claimed);
            }
            for claimed in self.buffer.drain(..) {
                self.tasks.spawn(charge(self.ctx.clone(), claimed, None));
            }
        }
        finish_tasks(&mut self.tasks, stopping, self.config.shutdown_grace).await;
    }
}
