//! The fires the scheduler has yet to start a run for: new ones, and ones whose run could not
//! be started (the database was down) waiting to be tried again with backoff.

use std::time::Duration;

use tokio::time::Instant;

use super::Fire;

/// How long the scheduler waits before trying a failed fire again: `first`, doubling after each
/// failure in a row, at most `cap`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FireBackoff {
    /// The wait after the first failure.
    pub first: Duration,
    /// The longest wait.
    pub cap: Duration,
}

impl Default for FireBackoff {
    /// A second, doubling to a minute: a database back within seconds loses seconds, and one
    /// down for hours is asked once a minute.
    fn default() -> Self {
        Self {
            first: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

impl FireBackoff {
    /// The wait after the `failures`-th failure in a row (1 for the first).
    pub fn delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(31);
        self.first.saturating_mul(1 << doublings).min(self.cap)
    }
}

/// A fire to try, and when.
#[derive(Debug)]
pub(super) struct Pending {
    /// The fire.
    pub fire: Fire,
    /// Its tries that failed so far.
    failures: u32,
    /// When to try it.
    due: Instant,
}

/// The fires to try, at most one per schedule: the latest. Runs are keyed by fire time, so an
/// older fire still waiting is superseded by a newer one (whose run bills the same invoices
/// and more), as a schedule fires once after a long pause.
#[derive(Debug, Default)]
pub(super) struct FireQueue {
    pending: Vec<Pending>,
}

impl FireQueue {
    /// Adds a new fire, due now.
    pub fn fired(&mut self, fire: Fire, now: Instant) {
        self.put(Pending {
            fire,
            failures: 0,
            due: now,
        });
    }

    /// Takes the fires due at `now`, in the order they came.
    pub fn take_due(&mut self, now: Instant) -> Vec<Pending> {
        let (due, waiting) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|p| p.due <= now);
        self.pending = waiting;
        due
    }

    /// Puts back a fire whose try failed at `now`, due after `backoff`; returns the wait.
    pub fn failed(&mut self, mut pending: Pending, now: Instant, backoff: FireBackoff) -> Duration {
        pending.failures = pending.failures.saturating_add(1);
        let wait = backoff.delay(pending.failures);
        pending.due = now + wait;
        self.put(pending);
        wait
    }

    /// When the next fire is due, if any waits.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.iter().map(|p| p.due).min()
    }

    /// Adds `new` unless its schedule has a newer fire waiting; an older one is dropped.
    fn put(&mut self, new: Pending) {
        let same_schedule = self
            .pending
            .iter()
            .position(|p| p.fire.name == new.fire.name);
        if let Some(i) = same_schedule {
            let old = &self.pending[i].fire;
            if old.at >= new.fire.at {
                return;
            }
            log::warn!(
                "schedule {}: the fire for {} is superseded by the one for {} before its run could start",
                old.name,
                old.at,
                new.fire.at
            );
            self.pending.remove(i);
        }
        self.pending.push(new);
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn fire(name: &str, time: &str) -> Fire {
        Fire {
            name: name.into(),
            at: at(time),
            scope: antaeus_models::RunScope::All,
        }
    }

    fn times(pending: &[Pending]) -> Vec<(String, DateTime<Utc>)> {
        pending
            .iter()
            .map(|p| (p.fire.name.clone(), p.fire.at))
            .collect()
    }

    #[test]
    fn the_backoff_doubles_from_its_first_wait_to_its_cap() {
        let backoff = FireBackoff::default();
        let waits: Vec<u64> = (1..=9).map(|n| backoff.delay(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff.delay(u32::MAX), Duration::from_secs(60));
    }

    #[test]
    fn a_failed_fire_waits_for_its_backoff() {
        let now = Instant::now();
        let mut queue = FireQueue::default();
        queue.fired(fire("monthly", "2026-12-01T00:00:00Z"), now);
        let taken = queue.take_due(now).pop().unwrap();

        let wait = queue.failed(taken, now, FireBackoff::default());

        assert_eq!(wait, Duration::from_secs(1));
        assert_eq!(queue.next_due(), Some(now + wait));
        assert!(queue.take_due(now).is_empty());
        let again = queue.take_due(now + wait).pop().unwrap();
        let wait = queue.failed(again, now + wait, FireBackoff::default());
        assert_eq!(wait, Duration::from_secs(2), "the second failure in a row");
    }

    #[test]
    fn a_newer_fire_supersedes_an_older_one_of_its_schedule_only() {
        let now = Instant::now();
        let mut queue = FireQueue::default();
        queue.fired(fire("retry", "2026-12-01T00:00:00Z"), now);
        let waiting = queue.take_due(now).pop().unwrap();
        queue.failed(waiting, now, FireBackoff::default());

        queue.fired(fire("monthly", "2026-12-01T00:00:00Z"), now);
        queue.fired(fire("retry", "2026-12-01T01:00:00Z"), now);
        // An older fire put back after a newer one came is dropped too.
        queue.failed(
            Pending {
                fire: fire("retry", "2026-12-01T00:00:00Z"),
                failures: 3,
                due: now,
            },
            now,
            FireBackoff::default(),
        );

        assert_eq!(
            times(&queue.take_due(now)),
            [
                ("monthly".into(), at("2026-12-01T00:00:00Z")),
                ("retry".into(), at("2026-12-01T01:00:00Z")),
            ]
        );
        assert_eq!(queue.next_due(), None);
    }
}
