//! How billing events are delivered (`ANTAEUS_OUTBOX_MAX_FAILURES`).

use antaeus_core::notify::OutboxConfig;

use super::SettingsError;
use super::env::Env;

/// Reads the outbox worker's configuration.
pub fn outbox_config(env: &Env<'_>) -> Result<OutboxConfig, SettingsError> {
    let defaults = OutboxConfig::default();
    Ok(OutboxConfig {
        max_failures: env.integer(
            "ANTAEUS_OUTBOX_MAX_FAILURES",
            u64::from(defaults.max_failures),
            1,
            1_000,
        )? as u32,
        ..defaults
    })
}
