//! A rate limit in front of a payment provider: calls are paced to at most `max_rps` per
//! second per instance, so that a run stays under the provider's limit instead of learning it
//! from 429s. A 429 still halves the pace for a cool-down, then the pace is restored step by
//! step (additive increase, multiplicative decrease).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use antaeus_core::{
    ChargeDecision, ChargeRequest, PaymentLookup, PaymentProvider, PaymentState, ProviderError,
    RefundDecision, RefundRequest,
};
use async_trait::async_trait;
use metrics::{Counter, Gauge};
use tokio::time::Instant;

/// How calls are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Most calls per second when nothing is rate limited.
    pub max_rps: f64,
    /// After a 429, the halved pace holds for this long.
    pub cool_down: Duration,
    /// Then it grows by a tenth of `max_rps` this often, back to `max_rps`.
    pub restore_every: Duration,
}

impl RateLimit {
    /// `max_rps` calls per second, halved for 10 s after a 429, then restored over ~5 s.
    pub fn per_second(max_rps: u32) -> Self {
        Self {
            max_rps: f64::from(max_rps.max(1)),
            cool_down: Duration::from_secs(10),
            restore_every: Duration::from_secs(1),
        }
    }

    /// The slowest pace a run of 429s can bring it to.
    fn floor(&self) -> f64 {
        (self.max_rps / 16.0).max(1.0)
    }

    /// How much each restoring step adds.
    fn step(&self) -> f64 {
        (self.max_rps / 10.0).max(1.0)
    }
}

/// The pacing state: the time the next call may go, and the last cut.
#[derive(Debug)]
struct Pace {
    /// When the next call may be sent (the theoretical arrival time of GCRA).
    next_at: Instant,
    /// The last 429's cut.
    cut: Option<Cut>,
}

/// A 429's cut of the pace.
#[derive(Debug, Clone, Copy)]
struct Cut {
    /// When it was made.
    at: Instant,
    /// The pace it set.
    rate: f64,
    /// Turns before this were handed out at the pace before the cut: their 429s do not cut
    /// again.
    horizon: Instant,
}

/// A [`PaymentProvider`] that paces calls to the provider it wraps.
pub struct RateLimitedProvider {
    inner: Arc<dyn PaymentProvider>,
    limit: RateLimit,
    pace: Mutex<Pace>,
    rps_gauge: Gauge,
    limited: Counter,
}

impl RateLimitedProvider {
    /// Paces calls to `inner` by `limit`.
    pub fn new(inner: Arc<dyn PaymentProvider>, limit: RateLimit) -> Self {
        let rps_gauge = metrics::gauge!("antaeus_provider_rate_limit_rps");
        rps_gauge.set(limit.max_rps);
        Self {
            inner,
            limit,
            pace: Mutex::new(Pace {
                next_at: Instant::now(),
                cut: None,
            }),
            rps_gauge,
            limited: metrics::counter!("antaeus_provider_rate_limited_total"),
        }
    }

    /// The pace at `now`: the maximum, or the cut's pace restored by the steps since its
    /// cool-down ended.
    fn rate_at(&self, pace: &Pace, now: Instant) -> f64 {
        let Some(Cut {
            at, rate: cut_rate, ..
        }) = pace.cut
        else {
            return self.limit.max_rps;
        };
        let since = now.saturating_duration_since(at);
        if since < self.limit.cool_down {
            return cut_rate;
        }
        let steps = ((since - self.limit.cool_down).as_secs_f64()
            / self.limit.restore_every.as_secs_f64().max(1e-3))
        .floor()
            + 1.0;
        (cut_rate + steps * self.limit.step()).min(self.limit.max_rps)
    }

    /// The current pace, in calls per second.
    pub fn current_rps(&self) -> f64 {
        let pace = self.pace.lock().expect("pace lock");
        self.rate_at(&pace, Instant::now())
    }

    /// Reserves the next free moment to call and waits for it.
    async fn pace_turn(&self) {
        let turn = {
            let mut pace = self.pace.lock().expect("pace lock");
            let now = Instant::now();
            let rate = self.rate_at(&pace, now);
            self.rps_gauge.set(rate);
            let turn = pace.next_at.max(now);
            pace.next_at = turn + Duration::from_secs_f64(1.0 / rate);
            turn
        };
        tokio::time::sleep_until(turn).await;
    }

    /// A 429 to a call made at `turn`: halves the pace, unless its turn was handed out before
    /// the last cut (the 429s of calls paced at the old rate cut once, not once each).
    fn rate_limited(&self, turn: Instant) {
        self.limited.increment(1);
        let mut pace = self.pace.lock().expect("pace lock");
        if pace.cut.is_some_and(|cut| turn < cut.horizon) {
            return;
        }
        let now = Instant::now();
        let halved = (self.rate_at(&pace, now) / 2.0).max(self.limit.floor());
        pace.cut = Some(Cut {
            at: now,
            rate: halved,
            horizon: pace.next_at,
        });
        // Calls already given a turn keep it; later ones are spaced at the new pace.
        self.rps_gauge.set(halved);
        log::warn!("the payment provider rate limited a call: pacing at {halved:.1} calls/s");
    }
}

#[async_trait]
impl PaymentProvider for RateLimitedProvider {
    /// Charges at once: the caller waited for its turn (`wait_turn`) before its timeout began.
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeDecision, ProviderError> {
        let turn = Instant::now();
        let result = self.inner.charge(request).await;
        if matches!(result, Err(ProviderError::Unavailable { status: 429, .. })) {
            self.rate_limited(turn);
        }
        result
    }

    async fn wait_turn(&self) {
        self.pace_turn().await;
    }

    async fn payment_state(&self, lookup: &PaymentLookup) -> Result<PaymentState, ProviderError> {
        self.inner.payment_state(lookup).await
    }

    async fn cancel_payment(&self, lookup: &PaymentLookup) -> Result<PaymentState, ProviderError> {
        self.inner.cancel_payment(lookup).await
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundDecision, ProviderError> {
        let turn = Instant::now();
        let result = self.inner.refund(request).await;
        if matches!(result, Err(ProviderError::Unavailable { status: 429, .. })) {
            self.rate_limited(turn);
        }
        result
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use antaeus_models::{
        Currency, CustomerId, IdempotencyKey, Invoice, InvoiceId, InvoiceStatus, Money,
    };

    use super::*;

    /// Answers 429 to the calls whose number (from 0) `limit_when` picks, charged otherwise.
    struct Fake {
        calls: AtomicU32,
        limit_when: fn(u32) -> bool,
    }

    #[async_trait]
    impl PaymentProvider for Fake {
        async fn charge(&self, _: &ChargeRequest) -> Result<ChargeDecision, ProviderError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if (self.limit_when)(n) {
                Err(ProviderError::Unavailable {
                    status: 429,
                    retry_after: Some(Duration::from_secs(1)),
                })
            } else {
                Ok(ChargeDecision::Charged {
                    charge_id: format!("pi_{n}"),
                })
            }
        }

        async fn refund(&self, _: &RefundRequest) -> Result<RefundDecision, ProviderError> {
            unreachable!("these tests charge only")
        }
    }

    fn limited(max_rps: u32, limit_when: fn(u32) -> bool) -> Arc<RateLimitedProvider> {
        let fake = Arc::new(Fake {
            calls: AtomicU32::new(0),
            limit_when,
        });
        Arc::new(RateLimitedProvider::new(
            fake,
            RateLimit::per_second(max_rps),
        ))
    }

    fn request() -> ChargeRequest {
        let invoice = Invoice::new(
            InvoiceId::new(1).unwrap(),
            CustomerId::new(1).unwrap(),
            Money::from_minor(100, Currency::EUR).unwrap(),
            InvoiceStatus::Pending,
        );
        ChargeRequest::new(invoice, IdempotencyKey::parse("antaeus-1-0").unwrap())
    }

    /// Starts `n` calls at once and returns how long after the start each one ended.
    async fn burst(provider: &Arc<RateLimitedProvider>, n: usize) -> Vec<Duration> {
        let start = Instant::now();
        let tasks: Vec<_> = (0..n)
            .map(|_| {
                let provider = provider.clone();
                tokio::spawn(async move {
                    provider.wait_turn().await;
                    let _ = provider.charge(&request()).await;
                    start.elapsed()
                })
            })
            .collect();
        let mut ends = Vec::new();
        for task in tasks {
            ends.push(task.await.unwrap());
        }
        ends.sort();
        ends
    }

    #[tokio::test(start_paused = true)]
    async fn calls_are_paced_to_the_maximum_rate() {
        let provider = limited(80, |_| false);
        let ends = burst(&provider, 161).await;
        // 161 calls at 80/s: the first at once, the last two seconds later, none sooner.
        assert_eq!(ends[0], Duration::ZERO);
        assert_eq!(ends[160], Duration::from_secs(2));
        let in_first_second = ends.iter().filter(|d| **d < Duration::from_secs(1)).count();
        assert_eq!(in_first_second, 80);
        assert_eq!(provider.current_rps(), 80.0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_halves_the_rate_once_then_it_is_restored_step_by_step() {
        // The 6th, 7th and 8th calls (sent at the full pace) are rate limited.
        let provider = limited(80, |n| (5..8).contains(&n));
        burst(&provider, 10).await;
        assert_eq!(provider.current_rps(), 40.0, "halved once, not three times");
        tokio::time::sleep(Duration::from_secs(9)).await;
        assert_eq!(provider.current_rps(), 40.0, "held through the cool-down");
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            provider.current_rps(),
            48.0,
            "then a tenth of the maximum per step"
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(provider.current_rps(), 72.0);
        tokio::time::sleep(Duration::from_secs(10)).await;
        assert_eq!(provider.current_rps(), 80.0, "never above the maximum");
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_429_calls_go_at_the_halved_pace() {
        let provider = limited(10, |n| n == 0);
        burst(&provider, 1).await;
        assert_eq!(provider.current_rps(), 5.0);
        let ends = burst(&provider, 6).await;
        // The first waits for the turn reserved at the full pace (0.1 s), then one per 0.2 s.
        assert_eq!(ends[5] - ends[0], Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn repeated_429s_never_stop_calls_altogether() {
        let provider = limited(80, |_| true);
        for _ in 0..20 {
            burst(&provider, 2).await;
        }
        assert_eq!(
            provider.current_rps(),
            5.0,
            "the floor is a sixteenth of the maximum"
        );
    }
}
