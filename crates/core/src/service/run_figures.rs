//! A run's live figures (its provider calls by outcome and, while it runs, the invoices still
//! due), counted at most once per freshness window however many clients poll the run.
//!
//! Both are counts over the run's whole history (every charge attempt of the run, every due
//! invoice), so what they cost grows with the run: on PostgreSQL at a million invoices, about
//! 0.7 s of database time per poll. Every client polling a running run (the console, a script,
//! an operator's `watch`) paid it on every poll, and took the database from the very run it
//! watched. A count is now kept for ten times what it cost (at most [`MAX_KEPT`]): whatever the
//! number of pollers, an instance spends at most about a tenth of one connection on a run's
//! figures, and a cheap count (any small run) is as good as live. Polls of one run that arrive
//! while it is being counted wait for that count instead of starting their own. A change of the
//! run's status (its end) is always counted afresh.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use antaeus_models::{CallCounts, RunId, RunStatus};
use chrono::{DateTime, TimeDelta, Utc};

use crate::Clock;

/// How many times a count's own cost its result is kept for.
pub(super) const KEPT_PER_COST: i32 = 10;

/// The longest a count is kept, however long it took.
pub(super) const MAX_KEPT: TimeDelta = TimeDelta::seconds(15);

/// Runs remembered before the stale ones are forgotten.
const REMEMBERED: usize = 64;

/// What was counted for a run, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Counted {
    /// The run's provider calls by outcome.
    pub(super) calls: CallCounts,
    /// While RUNNING: invoices due and not yet claimed.
    pub(super) remaining: Option<u64>,
    /// When the count began: the figures are at least this recent.
    pub(super) at: DateTime<Utc>,
    /// The run's status when counted: a new status is counted afresh.
    status: RunStatus,
    /// Until when the count is served as it is.
    kept_until: DateTime<Utc>,
}

/// One run's last count, locked while it is being recounted.
type Slot = Arc<tokio::sync::Mutex<Option<Counted>>>;

/// The runs' last counts (see the module doc).
pub(super) struct RunFigures {
    clock: Arc<dyn Clock>,
    slots: Mutex<HashMap<RunId, Slot>>,
}

impl RunFigures {
    /// No run counted yet; freshness by `clock`.
    pub(super) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The figures of run `id`, now in `status`: the last count while it is kept and the status
    /// unchanged, or else a new one by `count`. A failed count is not kept.
    pub(super) async fn get<E, F, Fut>(
        &self,
        id: RunId,
        status: RunStatus,
        count: F,
    ) -> Result<Counted, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<(CallCounts, Option<u64>), E>>,
    {
        let slot = self.slot(id);
        let mut last = slot.lock().await;
        let began = self.clock.now();
        if let Some(kept) = last.as_ref()
            && kept.status == status
            && began < kept.kept_until
        {
            return Ok(kept.clone());
        }
        let (calls, remaining) = count().await?;
        let ended = self.clock.now();
        let cost = (ended - began).max(TimeDelta::zero());
        let kept = Counted {
            calls,
            remaining,
            at: began,
            status,
            kept_until: ended + (cost * KEPT_PER_COST).min(MAX_KEPT),
        };
        *last = Some(kept.clone());
        Ok(kept)
    }

    /// The run's slot, made if new; forgets runs whose count is no longer kept once many are
    /// remembered, so the map stays small on a server that lives for years of runs.
    fn slot(&self, id: RunId) -> Slot {
        // A panic while holding this lock cannot leave the map half-changed.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if !slots.contains_key(&id) && slots.len() >= REMEMBERED {
            let now = self.clock.now();
            slots.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.try_lock().map_or(true, |last| {
                        last.as_ref().is_some_and(|c| now < c.kept_until)
                    })
            });
        }
        slots.entry(id).or_default().clone()
    }

    /// How many runs are remembered (for tests).
    #[cfg(test)]
    pub(super) fn remembered(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
