//! The claiming side of a run's pipeline: when to claim, how much, and what to do with the
//! answer.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::tasks::max_tasks;
use super::{ClaimResult, Driver, Stop, TICK};
use crate::billing::BreakerState;
use crate::error_report::one_line;
use crate::store::{ClaimRequest, StoreError};

/// Consecutive failed claims (storage errors) before a run stops and hands itself over.
const CLAIM_FAILURES_BEFORE_HAND_OVER: u32 = 10;

impl Driver<'_> {
    /// Starts a claim when there is room for a worthwhile batch (or for the breaker's probe).
    pub(super) fn start_claim_if_useful(&mut self) {
        let concurrency = self.config.call_slots();
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
            lease_timeout: self.config.lease(),
            fresh_after: self.fresh_cursor,
            include_stale,
            scope: self.run.scope,
            require_customer_ref: self.config.require_customer_ref,
        };
        let store = self.deps.billing.clone();
        let handle = tokio::spawn(async move { store.claim(&request).await });
        self.claiming = Some((handle, limit, Instant::now()));
    }

    /// Takes in what a finished claim returned.
    pub(super) fn claim_done(
        &mut self,
        result: ClaimResult,
        asked: usize,
        began: Instant,
    ) -> Option<Stop> {
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
                (self.claim_failures >= CLAIM_FAILURES_BEFORE_HAND_OVER)
                    .then(|| Stop::hand_over(format!("storage unavailable: {}", one_line(&err))))
            }
        }
    }
}

/// How many claimed invoices may wait for a slot: enough that a slot never waits for a claim.
/// A claim starts once half of this has room, so the other half covers the claim's latency
/// (at 20,000 calls a second, 512 invoices last 25 ms).
pub(super) fn prefetch(call_slots: usize) -> usize {
    call_slots
}

/// The result of the claim under way (pends forever when there is none).
pub(super) async fn next_claim(
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

/// How the claimer spent its time, for the debug log.
#[derive(Debug)]
pub(super) struct ClaimStats {
    pub(super) claims: usize,
    pub(super) claimed: usize,
    pub(super) claiming: Duration,
    pub(super) last_log: Instant,
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
