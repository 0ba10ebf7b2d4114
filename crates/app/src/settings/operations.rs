//! How the service is operated: the scheduler, API tokens and the log format.

use std::time::Duration;

pub use antaeus_rest::ApiTokens;

use antaeus_rest::{ConsoleSecret, Tokens, TrustedProxies};

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

/// Reads the API tokens: each variable one token, or several comma-separated while one is
/// rotated (any is valid); visible ASCII, no spaces, no empty entries.
pub fn api_tokens(env: &Env<'_>) -> Result<ApiTokens, SettingsError> {
    let tokens = |var: &'static str| match env.optional(var) {
        None => Ok(Tokens::none()),
        Some(list) => Tokens::parse(&list).map_err(|e| invalid(var, e.to_string())),
    };
    Ok(ApiTokens {
        write: tokens("ANTAEUS_API_TOKEN")?,
        read: tokens("ANTAEUS_READ_TOKEN")?,
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

/// Reads `ANTAEUS_TRUSTED_PROXIES`: the reverse proxies (addresses or CIDR blocks) whose
/// `X-Forwarded-For` names the client of a console sign-in; none by default.
pub fn trusted_proxies(env: &Env<'_>) -> Result<TrustedProxies, SettingsError> {
    env.optional("ANTAEUS_TRUSTED_PROXIES")
        .map(|list| {
            TrustedProxies::parse(&list)
                .map_err(|e| invalid("ANTAEUS_TRUSTED_PROXIES", e.to_string()))
        })
        .transpose()
        .map(Option::unwrap_or_default)
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

#[cfg(test)]
mod tests {
    use super::super::tests::load;

    #[test]
    fn each_token_variable_takes_several_comma_separated_tokens_any_one_valid() {
        let s = load(&[
            ("ANTAEUS_API_TOKEN", "old-write,new-write"),
            ("ANTAEUS_READ_TOKEN", "only-read"),
        ])
        .unwrap();
        assert!(s.tokens.write.accepts("old-write") && s.tokens.write.accepts("new-write"));
        assert!(!s.tokens.write.accepts("old-write,new-write"));
        assert!(s.tokens.read.accepts("only-read"));
        assert_eq!(
            format!("{:?}", s.tokens),
            "ApiTokens { write: [2 set], read: [set] }"
        );
    }

    #[test]
    fn trusted_proxies_are_none_by_default_and_a_bad_entry_names_the_variable() {
        assert!(load(&[]).unwrap().trusted_proxies.is_empty());
        let s = load(&[("ANTAEUS_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.5")]).unwrap();
        assert!(!s.trusted_proxies.is_empty());
        let err = load(&[("ANTAEUS_TRUSTED_PROXIES", "10.0.0.0/8,lb.internal")]).unwrap_err();
        assert_eq!(err.var, "ANTAEUS_TRUSTED_PROXIES");
        assert!(
            err.to_string()
                .contains("\"lb.internal\" is not an IP address"),
            "{err}"
        );
    }

    #[test]
    fn empty_entries_and_whitespace_are_refused_naming_the_variable_not_the_token() {
        for (var, value, says) in [
            (
                "ANTAEUS_API_TOKEN",
                "s3cret-a,,s3cret-b",
                "token 2 of 3 is empty",
            ),
            ("ANTAEUS_API_TOKEN", "s3cret-a,", "token 2 of 2 is empty"),
            (
                "ANTAEUS_READ_TOKEN",
                "s3cret-a, s3cret-b",
                "token 2 of 2 holds whitespace",
            ),
            (
                "ANTAEUS_READ_TOKEN",
                "s3cret a",
                "token 1 of 1 holds whitespace",
            ),
        ] {
            let err = load(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{value:?}");
            let line = err.to_string();
            assert!(line.starts_with(var) && line.contains(says), "{line}");
            assert!(!line.contains("s3cret") && !line.contains('\n'), "{line}");
        }
    }
}
