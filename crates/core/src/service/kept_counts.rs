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
//! wait for it instead of starting their own, and share its failure too (so that a database
//! gone away fails them together, not one timeout after another); a failure is not kept, and
//! the next reader counts again. A key that names a state as well (a run and its status) is counted
//! afresh when the state changes, and a clock set back before a count discards it.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

use crate::Clock;
use crate::store::StoreError;

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

/// A count that failed, for the readers that were waiting for it.
struct Failure {
    /// When it failed: readers who arrived before share it.
    ended: DateTime<Utc>,
    /// Which error it was (`StoreError` is not `Clone`).
    kind: FailureKind,
    /// What it said, with its causes.
    message: String,
}

/// The kind of [`StoreError`] a count failed with.
#[derive(Clone, Copy)]
enum FailureKind {
    Unavailable,
    Corrupt,
    Failed,
}

impl Failure {
    fn of(error: &StoreError, ended: DateTime<Utc>) -> Self {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        Self {
            ended,
            kind: match error {
                StoreError::Unavailable(_) => FailureKind::Unavailable,
                StoreError::Corrupt(_) => FailureKind::Corrupt,
                StoreError::Failed(_) => FailureKind::Failed,
            },
            message,
        }
    }

    /// The same error again, for a reader that waited for the count.
    fn again(&self) -> StoreError {
        let message = format!("{} (a count this read waited for)", self.message);
        match self.kind {
            FailureKind::Corrupt => StoreError::Corrupt(message),
            FailureKind::Unavailable => StoreError::Unavailable(message.into()),
            FailureKind::Failed => StoreError::Failed(message.into()),
        }
    }
}

/// One key's last count, and the failure of its last attempt if it failed.
struct Last<T> {
    counted: Option<Counted<T>>,
    failed: Option<Failure>,
}

impl<T> Default for Last<T> {
    fn default() -> Self {
        Self {
            counted: None,
            failed: None,
        }
    }
}

/// One key's last count, locked while it is being counted again.
type Slot<T> = Arc<tokio::sync::Mutex<Last<T>>>;

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
    /// failed count fails the readers that were waiting for it, and is not kept.
    pub(super) async fn get<F, Fut>(&self, key: K, count: F) -> Result<Counted<T>, StoreError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let arrived = self.clock.now();
        let slot = self.slot(key);
        let mut last = slot.lock().await;
        let began = self.clock.now();
        if let Some(kept) = &last.counted
            && kept.at <= began
            && began < kept.kept_until
        {
            return Ok(kept.clone());
        }
        if let Some(failure) = &last.failed
            && arrived < failure.ended
        {
            return Err(failure.again());
        }
        let value = match count().await {
            Ok(value) => value,
            Err(error) => {
                last.failed = Some(Failure::of(&error, self.clock.now()));
                return Err(error);
            }
        };
        let ended = self.clock.now();
        let cost = (ended - began).max(TimeDelta::zero());
        let counted = Counted {
            value,
            at: began,
            kept_until: ended + (cost * KEPT_PER_COST).min(MAX_KEPT),
        };
        last.failed = None;
        last.counted = Some(counted.clone());
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
                        last.counted.as_ref().is_some_and(|c| now < c.kept_until)
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
