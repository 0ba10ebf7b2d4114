//! Where the outbox take starts its walk of the `outbox_due` index.
//!
//! The take reads due events in the order they became due (`available_at`, then `seq`). On
//! PostgreSQL every delivered event leaves its old entries in that index until vacuum removes
//! them, all of them before the events still waiting: a take that starts at the front walks
//! past every event delivered since the last vacuum, and on a server without autovacuum past
//! every event ever delivered (at six million, 69,459 pages to find 500 events). So, as the
//! claim walks the invoices from a cursor, a take starts at a floor: [`MARGIN`] before the
//! oldest event the last take that found any found. (A take that finds none leaves the floor
//! where it is: the floor follows the events' own stamps, never the taker's clock.)
//!
//! No waiting event is passed for good. Every event that became due after the floor was set
//! lies above it; one below it is an event whose transaction committed more than [`MARGIN`]
//! after it was stamped, or one a take locked and then rolled back. Each take that comes
//! [`FULL_WALK_EVERY`] after the last full walk (by the caller's clock or the process's
//! monotonic one) walks the whole index again and finds those, so they wait that long at most.
//! SQLite removes index entries at once; the floor costs it nothing and saves it little.
//!
//! On PostgreSQL a lease leaves `available_at` as it was (`lease!` in `outbox.rs`), so an
//! event whose lease runs out unsettled (its worker gone, a round's leftovers) may lie below
//! the floor too, and waits for the next full walk: up to [`FULL_WALK_EVERY`] after its lease
//! ends. Keeping the floor below the events in flight instead (a second walk per take, for
//! the oldest event waiting, leased or not) cost more than the lease saved.

use std::sync::Mutex;
use std::time::Instant;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};

/// How far below the oldest event found the next take starts: longer than a transaction that
/// writes an event takes to commit after stamping it.
pub(crate) const MARGIN: TimeDelta = TimeDelta::seconds(10);

/// How often a take walks the whole index: by the `now` takes are given, and by this process's
/// monotonic clock too, so that a clock that stands still (or stamps that follow another clock)
/// cannot keep an event below the floor for good.
pub(crate) const FULL_WALK_EVERY: TimeDelta = TimeDelta::minutes(1);

/// The floor before any event can be due: the whole index.
fn whole_index() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(1, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default()
}

/// The floor takes share, one per process (cloned databases share it).
#[derive(Debug, Default)]
pub(crate) struct TakeFloor(Mutex<Option<Floor>>);

#[derive(Debug, Clone, Copy)]
struct Floor {
    /// Takes start here.
    at: NaiveDateTime,
    /// When (by the takes' `now`) the last take that walked the whole index began.
    full_walk_at: NaiveDateTime,
    /// The same, by this process's monotonic clock.
    full_walk_began: Instant,
}

/// Where one take starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Start {
    /// The lowest `available_at` the take reads.
    pub(crate) at: NaiveDateTime,
    /// Whether it walks the whole index.
    pub(crate) full: bool,
}

impl TakeFloor {
    /// Where a take at `now` starts: the floor, or the front of the index when a full walk is
    /// due (none yet, [`FULL_WALK_EVERY`] gone by on either clock, or a `now` that went back).
    /// A full walk is claimed at once, so that lanes starting beside it keep to the floor.
    pub(crate) fn start(&self, now: NaiveDateTime) -> Start {
        let mut state = self.lock();
        let walk_every = FULL_WALK_EVERY.to_std().unwrap_or_default();
        match *state {
            Some(floor)
                if now >= floor.full_walk_at
                    && now - floor.full_walk_at < FULL_WALK_EVERY
                    && floor.full_walk_began.elapsed() < walk_every =>
            {
                Start {
                    at: floor.at,
                    full: false,
                }
            }
            _ => {
                *state = Some(Floor {
                    at: state.map_or_else(whole_index, |f| f.at),
                    full_walk_at: now,
                    full_walk_began: Instant::now(),
                });
                Start {
                    at: whole_index(),
                    full: true,
                }
            }
        }
    }

    /// After a take at `now` that began at `start` and found `oldest` (the first event it
    /// took), or nothing.
    ///
    /// The floor moves to [`MARGIN`] below `oldest`, but a take that began above the floor
    /// saw nothing below its own start: beside it, another lane may have just lowered the
    /// floor to events it found there, so it may lower the floor, never raise it. A full walk
    /// that found nothing leaves the floor at most [`MARGIN`] below `now` (after a clock that
    /// went back).
    pub(crate) fn after_take(
        &self,
        start: Start,
        now: NaiveDateTime,
        oldest: Option<NaiveDateTime>,
    ) {
        let mut state = self.lock();
        let Some(floor) = state.as_mut() else {
            return;
        };
        match oldest {
            Some(oldest) if start.at <= floor.at => floor.at = oldest - MARGIN,
            Some(oldest) => floor.at = floor.at.min(oldest - MARGIN),
            None if start.full => floor.at = floor.at.min(now - MARGIN),
            None => {}
        }
    }

    /// Forgets the floor: the next take walks the whole index. After a take that failed (a
    /// full walk it claimed did not happen), and before a drain that must find every event.
    pub(crate) fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Floor>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            + TimeDelta::seconds(seconds)
    }

    /// A take at `now` that finds `oldest`; returns where it started.
    fn take(floor: &TakeFloor, now: i64, oldest: Option<i64>) -> Start {
        let start = floor.start(at(now));
        floor.after_take(start, at(now), oldest.map(at));
        start
    }

    fn floored(seconds: i64) -> Start {
        Start {
            at: at(seconds),
            full: false,
        }
    }

    fn full() -> Start {
        Start {
            at: whole_index(),
            full: true,
        }
    }

    #[test]
    fn the_first_take_walks_the_whole_index_and_the_next_starts_below_what_it_found() {
        let floor = TakeFloor::default();
        assert_eq!(take(&floor, 0, Some(-30)), full());
        assert_eq!(take(&floor, 1, Some(-100)), floored(-40));
        // A take that found older events (a backlog) moves it down; one that found none
        // leaves it.
        assert_eq!(take(&floor, 2, None), floored(-110));
        assert_eq!(floor.start(at(3)), floored(-110));
    }

    #[test]
    fn a_take_a_minute_after_the_last_full_walk_walks_the_whole_index_again() {
        let floor = TakeFloor::default();
        assert_eq!(take(&floor, 0, Some(0)), full());
        assert_eq!(take(&floor, 30, Some(30)), floored(-10));
        assert_eq!(take(&floor, 59, None), floored(20));
        assert_eq!(take(&floor, 60, Some(60)), full());
        assert_eq!(floor.start(at(61)), floored(50));
    }

    #[test]
    fn a_lane_that_began_above_a_full_walk_never_raises_the_floor_it_lowered() {
        let floor = TakeFloor::default();
        take(&floor, 0, Some(100));
        // A lane starts at the floor; a full walk begins beside it, a minute on.
        let lane = floor.start(at(30));
        assert_eq!(lane, floored(90));
        let walk = floor.start(at(60));
        assert_eq!(walk, full());
        // The full walk finds a backlog far below the floor and ends first...
        floor.after_take(walk, at(60), Some(at(-500)));
        // ...then the lane ends, having found the events just above where it began.
        floor.after_take(lane, at(30), Some(at(95)));
        assert_eq!(floor.start(at(61)), floored(-510));
    }

    #[test]
    fn a_clock_that_went_back_walks_the_whole_index_and_brings_the_floor_below_it() {
        let floor = TakeFloor::default();
        take(&floor, 100, Some(100));
        assert_eq!(floor.start(at(101)), floored(90));
        assert_eq!(take(&floor, 50, None), full());
        assert_eq!(floor.start(at(51)), floored(40));
    }

    #[test]
    fn a_forgotten_floor_walks_the_whole_index() {
        let floor = TakeFloor::default();
        take(&floor, 0, Some(0));
        assert_eq!(floor.start(at(1)), floored(-10));
        floor.forget();
        assert_eq!(floor.start(at(2)), full());
    }
}
