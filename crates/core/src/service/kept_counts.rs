//! Counts over a growing history, counted at most once per freshness window however many
//! readers ask: a run's provider calls by outcome and the invoices still due (polled through
//! `GET /rest/v1/billing/runs/{id}`), the outbox's backlog (on the console's overview).
//!
//! What these counts cost grows with what they count: on PostgreSQL at a million invoices, a
//! run's calls took 0.54 s and the due invoices 0.26 s on average, per poll. Every client
//! polling a running run (the console, a script, an operator's `watch`) paid it on every poll,
//! and took the database from the very run it watched. A count is kept for ten times what it
//! cost (at most [`MAX_KEPT`]): whatever the number of readers, an instance spends about a
//! tenth of one connection on each count that takes up to 1.5 s (a longer one runs at most once
//! every 15 s), and a cheap count is as good as live. Readers that arrive while a count runs
//! wait for it instead of starting their own; a count that fails is not shared, and the next
//! reader counts again. A key that names a state as well (a run and its status) is counted
//! afresh when the state changes, and a clock set back before a count discards it.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use crate::Clock;

/// How many times a count's own cost its result is kept for.
pub(super) const KEPT_PER_COST: i32 = 10;

/// The longest a count is kept, however long it took.
pub(super) const MAX_KEPT: TimeDelta = TimeDelta::seconds(15);

/// Keys remembered before those no longer kept are forgotten.
const REMEMBERED: usize = 64;

/// A count and when it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Counted<T> {
    /// What was counted.
    pub(super) value: T,
    /// When the count began: the value is at least this recent.
    pub(super) at: DateTime<Utc>,
    /// Until when the count is served as it is.
    kept_until: DateTime<Utc>,
}

/// One key's last count, locked while it is being counted again.
type Slot<T> = Arc<tokio::sync::Mutex<Option<Counted<T>>>>;

/// The last count of each key (see the module doc).
pub(super) struct KeptCounts<K, T> {
    clock: Arc<dyn Clock>,
    slots: Mutex<HashMap<K, Slot<T>>>,
}

impl<K: Hash + Eq + Clone, T: Clone> KeptCounts<K, T> {
    /// Nothing counted yet; freshness by `clock`.
    pub(super) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The count of `key`: the last one while it is kept, or else a new one by `count`. A
    /// failed count is not kept.
    pub(super) async fn get<E, F, Fut>(&self, key: K, count: F) -> Result<Counted<T>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let slot = self.slot(key);
        let mut last = slot.lock().await;
        let began = self.clock.now();
        if let Some(kept) = last.as_ref()
            && kept.at <= began
            && began < kept.kept_until
        {
            return Ok(kept.clone());
        }
        let value = count().await?;
        let ended = self.clock.now();
        let cost = (ended - began).max(TimeDelta::zero());
        let counted = Counted {
            value,
            at: began,
            kept_until: ended + (cost * KEPT_PER_COST).min(MAX_KEPT),
        };
        *last = Some(counted.clone());
        Ok(counted)
    }

    /// The key's slot, made if new; forgets keys whose count is no longer kept once many are
    /// remembered, so the map stays small on a server that lives for years of runs.
    fn slot(&self, key: K) -> Slot<T> {
        // A panic while holding this lock cannot leave the map half-changed.
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if !slots.contains_key(&key) && slots.len() >= REMEMBERED {
            let now = self.clock.now();
            slots.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.try_lock().map_or(true, |last| {
                        last.as_ref().is_some_and(|c| now < c.kept_until)
                    })
            });
        }
        slots.entry(key).or_default().clone()
    }

    /// How many keys are remembered (for tests).
    #[cfg(test)]
    pub(super) fn remembered(&self) -> usize {
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
