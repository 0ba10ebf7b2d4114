//! How the service is operated: the scheduler, API tokens and the log format.

use std::time::Duration;

pub use antaeus_rest::ApiTokens;

use antaeus_rest::ConsoleSecret;

use super::SettingsError;
use super::env::{Env, invalid};
use crate::cron_schedule::CronSchedule;

/// The monthly billing schedule when `ANTAEUS_SCHEDULE` is unset: 00:00 UTC on the 1st.
pub const DEFAULT_SCHEDULE: &str = "0 0 1 * *";
/// The retry sweep when `ANTAEUS_RETRY_SCHEDULE` is unset: every hour on the hour.
pub const DEFAULT_RETRY_SCHEDULE: &str = "0 * * * *";

/// The built-in scheduler.
#[derive(Debug, Clone)]
pub struct SchedulerSettings {
    /// `ANTAEUS_SCHEDULER`: `on` (default) or `off` when an external scheduler triggers runs.
    pub enabled: bool,
    /// `ANTAEUS_SCHEDULE`: when the monthly billing run fires.
    pub monthly: CronSchedule,
    /// `ANTAEUS_RETRY_SCHEDULE`: when the sweep for due retries fires.
    pub retry: CronSchedule,
    /// `ANTAEUS_SCHEDULE_CATCH_UP_S`: fires missed this recently (while the service was down)
    /// are made up at start-up.
    pub catch_up: Duration,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (default).
    Text,
    /// One JSON object per line (`ANTAEUS_LOG_FORMAT=json`).
    Json,
}

/// Reads the scheduler settings.
pub fn scheduler_settings(env: &Env<'_>) -> Result<SchedulerSettings, SettingsError> {
    let enabled = env.switch("ANTAEUS_SCHEDULER", true)?;
    let cron = |var: &'static str, default: &str| {
        CronSchedule::parse(&env.string(var, default)).map_err(|reason| invalid(var, reason))
    };
    Ok(SchedulerSettings {
        enabled,
        monthly: cron("ANTAEUS_SCHEDULE", DEFAULT_SCHEDULE)?,
        retry: cron("ANTAEUS_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE)?,
        catch_up: env.seconds("ANTAEUS_SCHEDULE_CATCH_UP_S", 3_600, 0, 31 * 86_400)?,
    })
}

/// Reads `ANTAEUS_RECONCILE_INTERVAL_S`: how often `serve` asks the provider about payments
/// that may still complete (waiting for the customer, processing), so that a lost webhook
/// heals within minutes.
pub fn reconcile_every(env: &Env<'_>) -> Result<Duration, SettingsError> {
    env.seconds("ANTAEUS_RECONCILE_INTERVAL_S", 300, 1, 86_400)
}

/// Reads `ANTAEUS_SEED_DEMO_DATA`: whether `serve` may seed the original data set into an
/// empty database (it does so only with the simulated provider).
pub fn seed_demo_data(env: &Env<'_>) -> Result<bool, SettingsError> {
    env.switch("ANTAEUS_SEED_DEMO_DATA", true)
}

/// Reads the API tokens: visible ASCII, no spaces.
pub fn api_tokens(env: &Env<'_>) -> Result<ApiTokens, SettingsError> {
    let token = |var: &'static str| -> Result<Option<String>, SettingsError> {
        match env.optional(var) {
            None => Ok(None),
            Some(t) if t.bytes().all(|b| b.is_ascii_graphic()) && t.len() <= 512 => Ok(Some(t)),
            Some(_) => Err(invalid(
                var,
                "a token is 1 to 512 visible ASCII characters, no spaces",
            )),
        }
    };
    Ok(ApiTokens {
        write: token("ANTAEUS_API_TOKEN")?,
        read: token("ANTAEUS_READ_TOKEN")?,
    })
}

/// Reads `ANTAEUS_CONSOLE_SECRET`: at least 32 characters when set.
pub fn console_secret(env: &Env<'_>) -> Result<Option<ConsoleSecret>, SettingsError> {
    env.optional("ANTAEUS_CONSOLE_SECRET")
        .map(|s| {
            ConsoleSecret::new(&s).map_err(|e| invalid("ANTAEUS_CONSOLE_SECRET", e.to_string()))
        })
        .transpose()
}

/// Reads `ANTAEUS_LOG_FORMAT`.
pub fn log_format(env: &Env<'_>) -> Result<LogFormat, SettingsError> {
    match env
        .string("ANTAEUS_LOG_FORMAT", "text")
        .to_ascii_lowercase()
        .as_str()
    {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(invalid(
            "ANTAEUS_LOG_FORMAT",
            format!("{other:?}: expected text or json"),
        )),
    }
}
