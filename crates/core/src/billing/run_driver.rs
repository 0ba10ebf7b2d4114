//! Drives one billing run: a pipeline in which claims run ahead of the charging tasks (a
//! prefetch buffer), each claimed invoice is charged by a task as soon as a slot is free, and
//! outcomes go to the journal writer; the run drains until nothing due is left unprocessed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use antaeus_models::{BillingRun, InstanceId, InvoiceId, RunStatus};
use chrono::TimeDelta;
use tokio::sync::{Notify, Semaphore};
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

use super::charge::{ChargeContext, charge};
use super::heartbeat::HeartbeatStatus;
use super::journal_writer::JournalWriter;
use super::service::BillingDeps;
use super::{BillingConfig, BreakerState, CircuitBreaker};
use crate::Shutdown;
use crate::error_report::one_line;
use crate::store::{ClaimRequest, ClaimedInvoice, RunEnd, StoreError};

/// Consecutive failed claims (storage errors) before a run gives up.
const CLAIM_FAILURES_BEFORE_ABORT: u32 = 10;

/// The longest the loop waits before looking at the breaker and the clocks again.
const TICK: Duration = Duration::from_millis(50);

type ClaimResult = Result<Vec<ClaimedInvoice>, StoreError>;

/// Runs `run` as `worker` until it completes or aborts; returns how it ended.
pub(crate) async fn drive(
    deps: &BillingDeps,
    config: &BillingConfig,
    breaker: &Arc<CircuitBreaker>,
    run: &BillingRun,
    worker: InstanceId,
    heartbeat: &HeartbeatStatus,
    shutdown: Shutdown,
) -> RunEnd {
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
        stopping: Default::default(),
        slots: Arc::new(Semaphore::new(config.concurrency.max(1))),
        slot_freed: Notify::new(),
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
    };
    let abort_reason = driver.run_loop().await;
    driver.wind_down(abort_reason.is_some()).await;
    let Driver {
        ctx,
        writer,
        stats,
        started,
        ..
    } = driver;
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
    fatal: Option<String>,
    /// The last claim found nothing.
    last_claim_empty: bool,
    /// No claim starts before this.
    next_claim_at: Instant,
    /// Where the next claim looks for never-tried invoices.
    fresh_cursor: Option<InvoiceId>,
    look_for_stale: bool,
    last_stale_check: Instant,
    stats: ClaimStats,
}

impl Driver<'_> {
    /// Runs the pipeline until the run is done (`None`) or must stop (the reason).
    async fn run_loop(&mut self) -> Option<String> {
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
                    Err(reason) => return Some(reason),
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

    fn reason_to_stop(&mut self) -> Option<String> {
        if let Some(reason) = self.fatal.take() {
            return Some(reason);
        }
        if self.shutdown.is_requested() {
            return Some("shutdown requested".into());
        }
        if self.writer.has_failed() {
            return Some(
                "outcomes could not be recorded; the run's claims will be taken over".into(),
            );
        }
        if self.panicked {
            return Some("a charging task failed; the run's claims will be taken over".into());
        }
        if self.heartbeat.age() > self.config.lease_timeout {
            // Others may take our claims over now: stop dispatching and let them.
            return Some(
                "heartbeats are failing; stopping so that others take the claims over".into(),
            );
        }
        // An outage counts from this run's start: a breaker left open by an earlier run gets
        // its probe before this run gives up.
        if let Some(outage) = self
            .breaker
            .outage_duration()
            .map(|o| o.min(self.started.elapsed()))
            && outage > self.config.max_outage
        {
            return Some(format!(
                "the payment provider has been failing for {}s",
                outage.as_secs()
            ));
        }
        None
    }

    /// Starts a charging task for buffered invoices while call slots are free.
    fn dispatch(&mut self) {
        while !self.buffer.is_empty() && self.tasks.len() < max_tasks(self.config.concurrency) {
            let Ok(slot) = self.ctx.slots.clone().try_acquire_owned() else {
                break;
            };
            if let Some(claimed) = self.buffer.pop_front() {
                self.tasks
                    .spawn(charge(self.ctx.clone(), claimed, Some(slot)));
            }
        }
    }

    /// Once a second, at debug level: how full the pipeline is.
    fn log_pipeline(&mut self) {
        if self.stats.last_log.elapsed() < Duration::from_secs(1)
            || !log::log_enabled!(log::Level::Debug)
        {
            return;
        }
        self.stats.last_log = Instant::now();
        log::debug!(
            "run {}: {} calls in flight, {} tasks, {} claimed waiting, claim under way: {}, {} claimed so far",
            self.run.id,
            self.calls_in_flight(),
            self.tasks.len(),
            self.buffer.len(),
            self.claiming.is_some(),
            self.stats.claimed
        );
    }

    /// Provider calls under way or about to start (their slot is taken).
    fn calls_in_flight(&self) -> usize {
        self.config
            .concurrency
            .max(1)
            .saturating_sub(self.ctx.slots.available_permits())
    }

    /// Starts a claim when there is room for a worthwhile batch (or for the breaker's probe).
    fn start_claim_if_useful(&mut self) {
        let concurrency = self.config.concurrency;
        let in_hand = self.tasks.len() + self.buffer.len();
        let limit = match self.breaker.state() {
            BreakerState::Closed => {
                // Tasks waiting to resend do not hold a call slot, so they do not hold claims
                // back, up to a bound that keeps memory in proportion to the concurrency.
                if in_hand >= max_tasks(concurrency) + prefetch(concurrency) {
                    return;
                }
                let room = (concurrency + prefetch(concurrency))
                    .saturating_sub(self.calls_in_flight() + self.buffer.len());
                let worthwhile = (concurrency / 2).clamp(1, self.config.max_claim as usize);
                if room == 0 || (room < worthwhile && in_hand > 0) {
                    return;
                }
                room.min(self.config.max_claim as usize)
            }
            BreakerState::HalfOpen if in_hand == 0 => 1,
            BreakerState::HalfOpen | BreakerState::Open => return,
        };
        let include_stale = self.look_for_stale
            || self.last_stale_check.elapsed() >= self.config.heartbeat_interval();
        if include_stale {
            self.last_stale_check = Instant::now();
        }
        let request = ClaimRequest {
            instance: self.worker.clone(),
            run: self.run.id,
            now: self.deps.clock.now(),
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            lease_timeout: TimeDelta::from_std(self.config.lease_timeout)
                .unwrap_or(TimeDelta::seconds(30)),
            fresh_after: self.fresh_cursor,
            include_stale,
        };
        let store = self.deps.billing.clone();
        let handle = tokio::spawn(async move { store.claim(&request).await });
        self.claiming = Some((handle, limit, Instant::now()));
    }

    /// Takes in what a finished claim returned.
    fn claim_done(&mut self, result: ClaimResult, asked: usize, began: Instant) -> Option<String> {
        match result {
            Ok(claimed) => {
                self.claim_failures = 0;
                self.stats.claims += 1;
                self.stats.claimed += claimed.len();
                self.stats.claiming += began.elapsed();
                // Short of what was asked: work runs low, so look for stale claims next time.
                self.look_for_stale = claimed.len() < asked;
                self.last_claim_empty = claimed.is_empty();
                // Nothing due right now: do not ask again at once.
                self.next_claim_at = Instant::now()
                    + if claimed.is_empty() {
                        TICK
                    } else {
                        Duration::ZERO
                    };
                let fresh = claimed
                    .iter()
                    .filter(|c| c.invoice.next_attempt_at.is_none() && c.taken_over_from.is_none())
                    .map(|c| c.invoice.id)
                    .max();
                self.fresh_cursor = self.fresh_cursor.max(fresh);
                self.buffer.extend(claimed);
                None
            }
            Err(err) => {
                self.claim_failures += 1;
                self.next_claim_at = Instant::now() + self.config.drain_poll;
                log::warn!(
                    "run {}: claiming failed ({}): {}",
                    self.run.id,
                    self.claim_failures,
                    one_line(&err)
                );
                (self.claim_failures >= CLAIM_FAILURES_BEFORE_ABORT)
                    .then(|| format!("storage unavailable: {}", one_line(&err)))
            }
        }
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
            .backlog(self.deps.clock.now(), &self.worker)
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
            self.ctx.stopping.store(true, Ordering::SeqCst);
            // Tasks waiting for a slot to resend would otherwise wait out the grace period
            // behind calls that may hang, and be cancelled with their claims unreleased.
            self.ctx.slots.close();
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

/// How many claimed invoices may wait for a slot: enough that a slot never waits for a claim.
/// A claim starts once half of this has room, so the other half covers the claim's latency
/// (at 20,000 calls a second, 512 invoices last 25 ms).
fn prefetch(concurrency: usize) -> usize {
    concurrency.max(1)
}

/// Most charging tasks at once: those in a call, and as many again between calls.
fn max_tasks(concurrency: usize) -> usize {
    concurrency.max(1) * 2
}

/// The result of the claim under way (pends forever when there is none).
async fn next_claim(
    claiming: &mut Option<(JoinHandle<ClaimResult>, usize, Instant)>,
) -> (ClaimResult, usize, Instant) {
    match claiming {
        Some((handle, asked, began)) => {
            let result = handle
                .await
                .unwrap_or_else(|e| Err(StoreError::Failed(Box::new(e))));
            (result, *asked, *began)
        }
        None => std::future::pending().await,
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
    let deadline = Instant::now() + grace;
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

/// How the claimer spent its time, for the debug log.
#[derive(Debug)]
struct ClaimStats {
    claims: usize,
    claimed: usize,
    claiming: Duration,
    last_log: Instant,
}

impl Default for ClaimStats {
    fn default() -> Self {
        Self {
            claims: 0,
            claimed: 0,
            claiming: Duration::ZERO,
            last_log: Instant::now(),
        }
    }
}
