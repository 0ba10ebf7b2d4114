//! Billing engine settings.

use std::time::Duration;

use super::{BreakerConfig, ResendPolicy, RetryPolicy};

/// How the billing engine runs.
#[derive(Debug, Clone, PartialEq)]
pub struct BillingConfig {
    /// Most provider calls in flight at once. Default 256.
    pub concurrency: usize,
    /// Most invoices claimed per statement. Default 500.
    pub max_claim: u32,
    /// A claim whose owner has not heartbeated for this long is taken over. Default 30 s.
    pub lease_timeout: Duration,
    /// A provider call that takes longer ends as a timeout. Default 30 s.
    pub call_timeout: Duration,
    /// Resends of an unknown outcome within the run.
    pub resend: ResendPolicy,
    /// Dunning and unknown-outcome retries across runs.
    pub retry: RetryPolicy,
    /// The provider circuit breaker.
    pub breaker: BreakerConfig,
    /// A run whose provider has been failing this long ends ABORTED. Default 5 min.
    pub max_outage: Duration,
    /// How often a draining run looks again for work held by other instances. Default 500 ms.
    pub drain_poll: Duration,
    /// On shutdown, how long in-flight charges may take to finish. Default 10 s.
    pub shutdown_grace: Duration,
    /// Outcome writes: batch size and flush interval.
    pub journal: JournalConfig,
    /// The provider charges customers by its own reference (Stripe): an invoice whose customer
    /// has none fails `no_payment_method` without a call. Default false.
    pub require_customer_ref: bool,
}

impl Default for BillingConfig {
    fn default() -> Self {
        Self {
            concurrency: 256,
            max_claim: 500,
            lease_timeout: Duration::from_secs(30),
            call_timeout: Duration::from_secs(30),
            resend: ResendPolicy::default(),
            retry: RetryPolicy::default(),
            breaker: BreakerConfig::default(),
            max_outage: Duration::from_secs(300),
            drain_poll: Duration::from_millis(500),
            shutdown_grace: Duration::from_secs(10),
            journal: JournalConfig::default(),
            require_customer_ref: false,
        }
    }
}

impl BillingConfig {
    /// Provider calls a run may have in flight: the concurrency, at least one.
    pub fn call_slots(&self) -> usize {
        self.concurrency.max(1)
    }

    /// The lease timeout as a span of time (30 s if it does not fit one).
    pub fn lease(&self) -> chrono::TimeDelta {
        chrono::TimeDelta::from_std(self.lease_timeout).unwrap_or(chrono::TimeDelta::seconds(30))
    }

    /// How often a run heartbeats: three beats per lease.
    pub fn heartbeat_interval(&self) -> Duration {
        (self.lease_timeout / 3).max(Duration::from_millis(10))
    }
}

/// Batching of journal writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JournalConfig {
    /// Most entries per transaction. Default 1000.
    pub max_batch: usize,
    /// Longest an entry waits for its batch. Default 10 ms.
    pub flush_interval: Duration,
    /// How long a failing write is retried before the run gives up. Default 30 s.
    pub give_up_after: Duration,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            max_batch: 1_000,
            flush_interval: Duration::from_millis(10),
            give_up_after: Duration::from_secs(30),
        }
    }
}
