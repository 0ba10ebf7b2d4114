//! Stops dispatching while most recent provider calls fail transiently, and probes with one
//! call after a cool-down, so an outage does not burn through every invoice's retries.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::time::Instant;

/// Breaker thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerConfig {
    /// How many recent calls are considered.
    pub window: usize,
    /// Fewest calls in the window before the breaker may open.
    pub min_calls: usize,
    /// Share of transient failures in the window that opens the breaker.
    pub failure_ratio: f64,
    /// How long the breaker stays open before a probe.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self {
            window: 50,
            min_calls: 20,
            failure_ratio: 0.5,
            cool_down: Duration::from_secs(30),
        }
    }
}

/// The breaker's state, for callers and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// No calls until the cool-down ends.
    Open,
    /// One probe call is allowed; its outcome closes or reopens the breaker.
    HalfOpen,
}

/// What the breaker allows a caller about to call the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permit {
    /// Call.
    Call,
    /// Call: this is the probe; report its outcome with `probe = true`.
    Probe,
    /// Do not call now.
    Denied,
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open {
        until: Instant,
    },
    /// `probe`: when the current probe was handed out, if one is out.
    HalfOpen {
        probe: Option<Instant>,
    },
}

#[derive(Debug)]
struct Inner {
    recent: VecDeque<bool>,
    phase: Phase,
    /// When the current outage began (first opening since the last close).
    outage_since: Option<Instant>,
}

/// A circuit breaker over provider calls, shared by all charging tasks of an instance.
#[derive(Debug)]
pub struct CircuitBreaker {
    config: BreakerConfig,
    inner: Mutex<Inner>,
    /// Provider calls being made now (the operator console shows them).
    in_flight: AtomicUsize,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            inner: Mutex::new(Inner {
                recent: VecDeque::with_capacity(config.window),
                phase: Phase::Closed,
                outage_since: None,
            }),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Provider calls being made now, by every charging task of this instance.
    pub fn calls_in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Counts a provider call as in flight until the returned guard is dropped.
    pub(crate) fn calling(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks to call the provider now.
    pub fn permit(&self) -> Permit {
        let mut inner = self.lock();
        let now = Instant::now();
        let probe_overdue =
            |started: Instant| now.saturating_duration_since(started) >= self.config.cool_down;
        match inner.phase {
            Phase::Closed => Permit::Call,
            Phase::Open { until } if now < until => Permit::Denied,
            // A probe that never reported (its task was cancelled) does not block forever.
            Phase::HalfOpen {
                probe: Some(started),
            } if !probe_overdue(started) => Permit::Denied,
            Phase::Open { .. } | Phase::HalfOpen { .. } => {
                inner.phase = Phase::HalfOpen { probe: Some(now) };
                Permit::Probe
            }
        }
    }

    /// Reports a call's outcome: `transient` when it ended unknown (network error, timeout).
    pub fn record(&self, transient: bool, probe: bool) {
        let mut inner = self.lock();
        if probe {
            if transient {
                inner.phase = Phase::Open {
                    until: Instant::now() + self.config.cool_down,
                };
            } else {
                inner.phase = Phase::Closed;
                inner.recent.clear();
                inner.outage_since = None;
            }
            return;
        }
        if inner.recent.len() == self.config.window {
            inner.recent.pop_front();
        }
        inner.recent.push_back(transient);
        if matches!(inner.phase, Phase::Closed) && inner.recent.len() >= self.config.min_calls {
            let failures = inner.recent.iter().filter(|t| **t).count();
            if failures as f64 >= self.config.failure_ratio * inner.recent.len() as f64 {
                let now = Instant::now();
                inner.phase = Phase::Open {
                    until: now + self.config.cool_down,
                };
                inner.outage_since.get_or_insert(now);
                log::warn!(
                    "payment provider failing ({failures} of the last {} calls): pausing for {:?}",
                    inner.recent.len(),
                    self.config.cool_down
                );
            }
        }
    }

    /// A probe that was permitted but not made (the caller stopped): let another probe go.
    pub fn probe_abandoned(&self) {
        let mut inner = self.lock();
        if matches!(inner.phase, Phase::HalfOpen { .. }) {
            inner.phase = Phase::HalfOpen { probe: None };
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        match self.lock().phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if Instant::now() < until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// How long the provider has been failing, while it still is.
    pub fn outage_duration(&self) -> Option<Duration> {
        self.lock().outage_since.map(|since| since.elapsed())
    }

    /// How long until a probe may be made (zero when one may be made now).
    pub fn until_probe(&self) -> Duration {
        match self.lock().phase {
            Phase::Open { until } => until.saturating_duration_since(Instant::now()),
            _ => Duration::ZERO,
        }
    }
}

/// A provider call in flight: counted from [`CircuitBreaker::calling`] until dropped.
pub(crate) struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Reports a probe as abandoned if it is dropped before its outcome was recorded (the task
/// was cancelled or panicked), so the breaker can hand out another.
pub(crate) struct ProbeGuard<'a> {
    breaker: &'a CircuitBreaker,
    armed: bool,
}

impl<'a> ProbeGuard<'a> {
    /// Guards the call made under `permit`.
    pub(crate) fn new(breaker: &'a CircuitBreaker, permit: Permit) -> Self {
        Self {
            breaker,
            armed: permit == Permit::Probe,
        }
    }

    /// Records the call's outcome with the breaker.
    pub(crate) fn record(mut self, transient: bool) {
        self.breaker.record(transient, self.armed);
        self.armed = false;
    }
}

impl Drop for ProbeGuard<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.breaker.probe_abandoned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> CircuitBreaker {
        CircuitBreaker::new(BreakerConfig {
            window: 10,
            min_calls: 4,
            failure_ratio: 0.5,
            cool_down: Duration::from_secs(30),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn opens_when_most_recent_calls_fail_then_probes_after_the_cool_down() {
        let b = breaker();
        for _ in 0..3 {
            assert_eq!(b.permit(), Permit::Call);
            b.record(true, false);
        }
        assert_eq!(b.state(), BreakerState::Closed, "too few calls to judge");
        b.record(true, false);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.permit(), Permit::Denied);

        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(b.permit(), Permit::Probe);
        assert_eq!(b.permit(), Permit::Denied, "one probe at a time");
        b.record(true, true);
        assert_eq!(b.state(), BreakerState::Open, "a failed probe reopens");
        assert!(b.outage_duration().unwrap() >= Duration::from_secs(31));

        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(b.permit(), Permit::Probe);
        b.record(false, true);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.permit(), Permit::Call);
        assert_eq!(b.outage_duration(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn stays_closed_while_most_calls_succeed() {
        let b = breaker();
        for i in 0..100 {
            b.record(i % 3 == 1, false);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_dropped_unrecorded_or_overdue_does_not_block_the_breaker() {
        let b = breaker();
        for _ in 0..4 {
            b.record(true, false);
        }
        tokio::time::advance(Duration::from_secs(31)).await;
        let permit = b.permit();
        assert_eq!(permit, Permit::Probe);
        drop(ProbeGuard::new(&b, permit));
        assert_eq!(
            b.permit(),
            Permit::Probe,
            "the dropped probe was given back"
        );
        assert_eq!(b.permit(), Permit::Denied);
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(b.permit(), Permit::Probe, "an overdue probe is replaced");
    }

    #[tokio::test(start_paused = true)]
    async fn an_abandoned_probe_lets_another_one_go() {
        let b = breaker();
        for _ in 0..4 {
            b.record(true, false);
        }
        tokio::time::advance(Duration::from_secs(31)).await;
        assert_eq!(b.permit(), Permit::Probe);
        b.probe_abandoned();
        assert_eq!(b.permit(), Permit::Probe);
    }
}
