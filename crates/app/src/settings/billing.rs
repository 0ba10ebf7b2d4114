//! The billing engine's settings (`ANTAEUS_CONCURRENCY`, `ANTAEUS_LEASE_TIMEOUT_S`, …).

use antaeus_core::billing::{
    BillingConfig, BreakerConfig, JournalConfig, ResendPolicy, RetryPolicy,
};
use chrono::TimeDelta;

use super::SettingsError;
use super::env::Env;

/// The dunning schedule when `ANTAEUS_DUNNING_SCHEDULE` is unset.
pub const DEFAULT_DUNNING: &str = "1d,3d,5d,7d";

/// Reads the billing engine's configuration.
pub fn billing_config(env: &Env<'_>) -> Result<BillingConfig, SettingsError> {
    let defaults = BillingConfig::default();
    let unknown_base = env.seconds("ANTAEUS_UNKNOWN_RETRY_BASE_S", 30, 1, 86_400)?;
    let unknown_cap = env.seconds("ANTAEUS_UNKNOWN_RETRY_CAP_S", 1_800, 1, 7 * 86_400)?;
    Ok(BillingConfig {
        concurrency: env.integer("ANTAEUS_CONCURRENCY", 256, 1, 10_000)? as usize,
        lease_timeout: env.seconds("ANTAEUS_LEASE_TIMEOUT_S", 30, 1, 3_600)?,
        call_timeout: env.millis("ANTAEUS_CALL_TIMEOUT_MS", 30_000, 1, 600_000)?,
        resend: ResendPolicy {
            tries: env.integer("ANTAEUS_RESEND_TRIES", 3, 1, 20)? as u32,
            base: env.millis("ANTAEUS_RESEND_BASE_MS", 200, 0, 60_000)?,
            cap: env.millis("ANTAEUS_RESEND_CAP_MS", 5_000, 0, 600_000)?,
        },
        retry: RetryPolicy {
            dunning: env.schedule("ANTAEUS_DUNNING_SCHEDULE", DEFAULT_DUNNING)?,
            unknown_base: delta(unknown_base),
            unknown_cap: delta(unknown_cap.max(unknown_base)),
        },
        breaker: BreakerConfig {
            cool_down: env.seconds("ANTAEUS_BREAKER_COOL_DOWN_S", 30, 1, 3_600)?,
            ..BreakerConfig::default()
        },
        max_outage: env.seconds("ANTAEUS_MAX_OUTAGE_S", 300, 1, 86_400)?,
        shutdown_grace: env.seconds("ANTAEUS_SHUTDOWN_GRACE_S", 10, 0, 3_600)?,
        journal: JournalConfig {
            give_up_after: env.seconds("ANTAEUS_RECORD_RETRY_S", 30, 1, 3_600)?,
            ..defaults.journal
        },
        ..defaults
    })
}

fn delta(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}
