//! When to try again: dunning after declines, backoff after unknown outcomes, and resends
//! within a run.

use std::time::Duration;

use chrono::TimeDelta;

/// Retry timing across runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Wait after the 1st, 2nd, … decline; a decline after the last entry fails the invoice
    /// (`retries_exhausted`). Default: 1, 3, 5, 7 days.
    pub dunning: Vec<TimeDelta>,
    /// Wait after the first run that ended with the outcome unknown; doubles each time.
    pub unknown_base: TimeDelta,
    /// The longest wait after unknown outcomes.
    pub unknown_cap: TimeDelta,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            dunning: [1, 3, 5, 7].into_iter().map(TimeDelta::days).collect(),
            unknown_base: TimeDelta::seconds(30),
            unknown_cap: TimeDelta::minutes(30),
        }
    }
}

impl RetryPolicy {
    /// The wait after the `declines`-th decline (1-based), or `None` when the schedule is used up.
    pub fn dunning_delay(&self, declines: u32) -> Option<TimeDelta> {
        let index = usize::try_from(declines).ok()?.checked_sub(1)?;
        self.dunning.get(index).copied()
    }

    /// The wait after the `streak`-th consecutive unknown outcome (1-based): base × 2^(streak-1),
    /// capped.
    pub fn unknown_delay(&self, streak: u32) -> TimeDelta {
        let doublings = streak.saturating_sub(1).min(30);
        let factor = 1_i32 << doublings;
        self.unknown_base
            .checked_mul(factor)
            .map_or(self.unknown_cap, |d| d.min(self.unknown_cap))
    }
}

/// Resends of one attempt's key within a run, after a network error or timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResendPolicy {
    /// Provider calls per claim, the first included. Default 3.
    pub tries: u32,
    /// Backoff base. Default 200 ms.
    pub base: Duration,
    /// Backoff cap. Default 5 s.
    pub cap: Duration,
}

impl Default for ResendPolicy {
    fn default() -> Self {
        Self {
            tries: 3,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

impl ResendPolicy {
    /// "Full jitter" backoff before resend number `resend` (1-based): a uniform draw from
    /// `[0, min(cap, base × 2^(resend-1)))`, with `unit` a uniform draw from `[0, 1)`.
    pub fn delay(&self, resend: u32, unit: f64) -> Duration {
        let doublings = resend.saturating_sub(1).min(30);
        let ceiling = self
            .base
            .checked_mul(1 << doublings)
            .map_or(self.cap, |d| d.min(self.cap));
        ceiling.mul_f64(unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dunning_follows_the_schedule_then_ends() {
        let p = RetryPolicy::default();
        assert_eq!(p.dunning_delay(1), Some(TimeDelta::days(1)));
        assert_eq!(p.dunning_delay(2), Some(TimeDelta::days(3)));
        assert_eq!(p.dunning_delay(4), Some(TimeDelta::days(7)));
        assert_eq!(p.dunning_delay(5), None);
        assert_eq!(p.dunning_delay(0), None);
    }

    #[test]
    fn unknown_delays_double_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.unknown_delay(1), TimeDelta::seconds(30));
        assert_eq!(p.unknown_delay(2), TimeDelta::seconds(60));
        assert_eq!(p.unknown_delay(3), TimeDelta::seconds(120));
        assert_eq!(p.unknown_delay(20), TimeDelta::minutes(30));
        assert_eq!(p.unknown_delay(u32::MAX), TimeDelta::minutes(30));
    }

    #[test]
    fn resend_backoff_is_full_jitter_under_a_growing_capped_ceiling() {
        let p = ResendPolicy::default();
        assert_eq!(p.delay(1, 0.0), Duration::ZERO);
        assert_eq!(p.delay(1, 0.5), Duration::from_millis(100));
        assert_eq!(p.delay(2, 0.5), Duration::from_millis(200));
        assert_eq!(p.delay(3, 0.999), Duration::from_millis(800).mul_f64(0.999));
        assert_eq!(p.delay(10, 1.0), Duration::from_secs(5));
        assert_eq!(p.delay(u32::MAX, 1.0), Duration::from_secs(5));
    }
}
