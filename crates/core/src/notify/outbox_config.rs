//! How the outbox worker delivers: batch, lease, backoff, and when it gives an event up.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

/// Delivery settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxConfig {
    /// Events taken per round, and the most deliveries in flight at once, across every lane.
    /// Default 50.
    pub batch: u32,
    /// Rounds in progress at once (at least 1). While one lane's deliveries are in flight,
    /// another takes its next events or records its last deliveries, so the receiver is not
    /// kept waiting on the database (on SQLite, on the run's writes). The lanes share the
    /// `batch` limit, so a receiver never has more events in flight than with one lane, and
    /// the lease keeps two lanes from taking the same event. Default 4.
    pub lanes: u32,
    /// Events taken per round at most while a backlog lasts: each full round takes twice as
    /// many as the last, up to this, still delivering `batch` at a time; a round that is not
    /// full, or has a failure, goes back to `batch`. Fewer, larger rounds write the outbox
    /// less often. A round starts no delivery once half its `lease` has gone by, so a slow
    /// receiver shortens rounds instead of letting another worker take an event still being
    /// delivered. Default 500.
    pub max_round: u32,
    /// How long taken events are hidden from other workers; a round starts deliveries during
    /// the first half of it. Default 60 s.
    pub lease: Duration,
    /// How long to wait when nothing is due. Default 1 s.
    pub idle_poll: Duration,
    /// Wait after the first failed delivery; doubles per failure. Default 5 s.
    pub retry_base: Duration,
    /// Longest wait between deliveries of one event. Default 1 h.
    pub retry_cap: Duration,
    /// Failed deliveries after which an event is dead (at least 1). Default 20: about ten
    /// hours of failures at the default backoff.
    pub max_failures: u32,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            batch: 50,
            lanes: 4,
            max_round: 500,
            lease: Duration::from_secs(60),
            idle_poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(3600),
            max_failures: 20,
        }
    }
}

/// What becomes of an event whose delivery just failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    /// Try again at this instant, after waiting this long.
    Retry(DateTime<Utc>, Duration),
    /// Give it up: it is dead until an operator re-queues it.
    Dead,
}

impl OutboxConfig {
    /// How many events the round after one that took `took` of `asked` takes, given whether
    /// everything in it was delivered: double while the backlog lasts, `batch` otherwise.
    pub fn next_round(&self, asked: u32, took: u32, all_delivered: bool) -> u32 {
        let batch = self.batch.max(1);
        if took >= asked && all_delivered {
            asked
                .saturating_mul(2)
                .clamp(batch, self.max_round.max(batch))
        } else {
            batch
        }
    }

    /// After the `failures`-th failed delivery (counting this one) at `now`: dead once
    /// `max_failures` is reached, otherwise retried after base × 2^(failures-1), capped.
    pub fn after_failure(&self, failures: u32, now: DateTime<Utc>) -> AfterFailure {
        if failures >= self.max_failures.max(1) {
            return AfterFailure::Dead;
        }
        let wait = self.retry_delay(failures);
        AfterFailure::Retry(
            now + TimeDelta::from_std(wait).unwrap_or(TimeDelta::hours(1)),
            wait,
        )
    }

    /// base × 2^(failures-1), capped.
    fn retry_delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.retry_base
            .checked_mul(1 << doublings)
            .map_or(self.retry_cap, |d| d.min(self.retry_cap))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::test_start as now;

    fn wait_after(config: &OutboxConfig, failures: u32) -> Option<Duration> {
        match config.after_failure(failures, now()) {
            AfterFailure::Retry(at, wait) => {
                assert_eq!(at, now() + TimeDelta::from_std(wait).unwrap());
                Some(wait)
            }
            AfterFailure::Dead => None,
        }
    }

    #[test]
    fn rounds_grow_while_a_backlog_lasts_and_fall_back_after_a_short_or_failed_one() {
        let config = OutboxConfig::default();
        assert_eq!(config.next_round(50, 50, true), 100);
        assert_eq!(config.next_round(100, 100, true), 200);
        assert_eq!(config.next_round(400, 400, true), 500);
        assert_eq!(config.next_round(500, 500, true), 500);
        // The backlog ran out, or a delivery failed: back to the batch.
        assert_eq!(config.next_round(500, 499, true), 50);
        assert_eq!(config.next_round(500, 500, false), 50);
        assert_eq!(config.next_round(50, 0, true), 50);
        // A cap under the batch is the batch.
        let small = OutboxConfig {
            max_round: 10,
            ..config
        };
        assert_eq!(small.next_round(50, 50, true), 50);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let config = OutboxConfig {
            max_failures: 100,
            ..OutboxConfig::default()
        };
        assert_eq!(wait_after(&config, 1), Some(Duration::from_secs(5)));
        assert_eq!(wait_after(&config, 2), Some(Duration::from_secs(10)));
        assert_eq!(wait_after(&config, 4), Some(Duration::from_secs(40)));
        assert_eq!(wait_after(&config, 40), Some(Duration::from_secs(3600)));
    }

    #[test]
    fn an_event_is_dead_at_the_nth_failure_and_not_before() {
        let config = OutboxConfig::default();
        assert!(wait_after(&config, 19).is_some());
        assert_eq!(config.after_failure(20, now()), AfterFailure::Dead);
        assert_eq!(config.after_failure(21, now()), AfterFailure::Dead);
        let once = OutboxConfig {
            max_failures: 1,
            ..config
        };
        assert_eq!(once.after_failure(1, now()), AfterFailure::Dead);
        // Zero is treated as one: an event is always tried once.
        let zero = OutboxConfig {
            max_failures: 0,
            ..config
        };
        assert_eq!(zero.after_failure(1, now()), AfterFailure::Dead);
    }

    #[test]
    fn the_default_gives_a_receiver_about_ten_hours() {
        let config = OutboxConfig::default();
        let total: Duration = (1..config.max_failures)
            .map(|n| wait_after(&config, n).unwrap())
            .sum();
        let hours = total.as_secs_f64() / 3600.0;
        assert!((10.0..11.0).contains(&hours), "{hours} h");
    }
}
