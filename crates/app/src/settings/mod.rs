//! Configuration: one typed struct, loaded once from the environment, validated at start-up.

mod billing;
mod describe;
mod env;
mod notifier;
mod operations;
mod outbox;
mod provider;

use std::fmt;
use std::net::SocketAddr;

use antaeus_core::billing::BillingConfig;
use antaeus_core::notify::OutboxConfig;
use antaeus_data::DatabaseUrl;
use antaeus_rest::{ConsoleSecret, TrustedProxies};
use thiserror::Error;

pub use billing::DEFAULT_DUNNING;
pub use env::Env;
pub use notifier::NotifierSettings;
pub use operations::{
    ApiTokens, DEFAULT_RETRY_SCHEDULE, DEFAULT_SCHEDULE, LogFormat, SchedulerSettings,
};
pub use provider::ProviderSettings;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://antaeus.db";
/// The default listen address, as the original Antaeus.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:7000";

/// Everything the service reads from its environment.
#[derive(Clone)]
pub struct Settings {
    /// `ANTAEUS_DATABASE_URL`: `sqlite://<path>` or `postgres://…`.
    pub database_url: DatabaseUrl,
    /// `ANTAEUS_HTTP_ADDR`: where the REST API listens.
    pub http_addr: SocketAddr,
    /// `ANTAEUS_DB_POOL_SIZE`: most database connections per process.
    pub db_pool_size: u32,
    /// `ANTAEUS_PAYMENT_PROVIDER` and its variables.
    pub provider: ProviderSettings,
    /// `ANTAEUS_WEBHOOK_*`: where billing events go.
    pub notifier: NotifierSettings,
    /// `ANTAEUS_OUTBOX_MAX_FAILURES`: how billing events are delivered.
    pub outbox: OutboxConfig,
    /// `ANTAEUS_CONCURRENCY`, `ANTAEUS_LEASE_TIMEOUT_S`, `ANTAEUS_DUNNING_SCHEDULE`, …
    pub billing: BillingConfig,
    /// `ANTAEUS_SCHEDULER`, `ANTAEUS_SCHEDULE`, `ANTAEUS_RETRY_SCHEDULE`.
    pub scheduler: SchedulerSettings,
    /// `ANTAEUS_API_TOKEN`, `ANTAEUS_READ_TOKEN`.
    pub tokens: ApiTokens,
    /// `ANTAEUS_LOG_FORMAT`.
    pub log_format: LogFormat,
    /// `ANTAEUS_CONSOLE_SECRET`: signs console sessions; unset, a random one per process.
    pub console_secret: Option<ConsoleSecret>,
    /// `ANTAEUS_TRUSTED_PROXIES`: reverse proxies whose `X-Forwarded-For` names the client of a
    /// console sign-in (for its throttling); none by default.
    pub trusted_proxies: TrustedProxies,
    /// `ANTAEUS_SEED_DEMO_DATA`: `serve` may seed the original data set into an empty database
    /// (`on`, the default; it does only with the simulated provider) or never (`off`).
    pub seed_demo_data: bool,
    /// `ANTAEUS_RECONCILE_INTERVAL_S`: how often `serve` asks the provider about payments that
    /// may still complete.
    pub reconcile_every: std::time::Duration,
}

/// A setting that is present but invalid; the message names the variable.
#[derive(Debug, Error)]
#[error("{var}: {reason}")]
pub struct SettingsError {
    /// The environment variable.
    pub var: &'static str,
    /// Why its value is refused.
    pub reason: String,
}

impl Settings {
    /// Loads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Loads the settings from `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let env = Env::new(&lookup);
        let database_url = env
            .string("ANTAEUS_DATABASE_URL", DEFAULT_DATABASE_URL)
            .parse()
            .map_err(|e: antaeus_data::DataError| {
                env::invalid("ANTAEUS_DATABASE_URL", e.to_string())
            })?;
        let http_addr = listen_address(&env.string("ANTAEUS_HTTP_ADDR", DEFAULT_HTTP_ADDR))
            .map_err(|e| {
                env::invalid(
                    "ANTAEUS_HTTP_ADDR",
                    format!("{e} (expected host:port, e.g. {DEFAULT_HTTP_ADDR} or localhost:7000)"),
                )
            })?;
        let provider = provider::provider_settings(&env)?;
        let billing = BillingConfig {
            require_customer_ref: provider.requires_customer_ref(),
            ..billing::billing_config(&env)?
        };
        Ok(Self {
            database_url,
            http_addr,
            db_pool_size: env.integer("ANTAEUS_DB_POOL_SIZE", 10, 1, 1_000)? as u32,
            provider,
            notifier: notifier::notifier_settings(&env)?,
            outbox: outbox::outbox_config(&env)?,
            billing,
            scheduler: operations::scheduler_settings(&env)?,
            tokens: operations::api_tokens(&env)?,
            log_format: operations::log_format(&env)?,
            console_secret: operations::console_secret(&env)?,
            trusted_proxies: operations::trusted_proxies(&env)?,
            seed_demo_data: operations::seed_demo_data(&env)?,
            reconcile_every: operations::reconcile_every(&env)?,
        })
    }
}

/// The address `host:port` names: an IP literal as it is, a host name (`localhost`) resolved,
/// its first IPv4 address preferred (what `127.0.0.1` users expect of `localhost`).
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let resolved: Vec<SocketAddr> = std::net::ToSocketAddrs::to_socket_addrs(text)
        .map_err(|e| format!("{text:?}: {e}"))?
        .collect();
    resolved
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| resolved.first())
        .copied()
        .ok_or_else(|| format!("{text:?} names no address"))
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets print redacted: the database password, the provider token, the webhook secret.
        f.debug_struct("Settings")
            .field("database_url", &self.database_url.redacted())
            .field("http_addr", &self.http_addr)
            .field("db_pool_size", &self.db_pool_size)
            .field("provider", &self.provider)
            .field("notifier", &self.notifier)
            .field("outbox", &self.outbox)
            .field("billing", &self.billing)
            .field("scheduler", &self.scheduler)
            .field("tokens", &self.tokens)
            .field("log_format", &self.log_format)
            .field("seed_demo_data", &self.seed_demo_data)
            .field("reconcile_every", &self.reconcile_every)
            .field("trusted_proxies", &self.trusted_proxies)
            .field(
                "console_secret",
                &if self.console_secret.is_some() {
                    "[set]"
                } else {
                    "[unset: random per process]"
                },
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use antaeus_data::Backend;
    use chrono::TimeDelta;

    use super::*;

    /// The settings of an environment of just `vars`.
    pub(super) fn load(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn the_http_address_may_name_a_host() {
        let at = |addr: &str| load(&[("ANTAEUS_HTTP_ADDR", addr)]).map(|s| s.http_addr);
        let local = at("localhost:7000").unwrap();
        assert!(local.ip().is_loopback() && local.port() == 7000, "{local}");
        assert_eq!(at("0.0.0.0:8080").unwrap().to_string(), "0.0.0.0:8080");
        assert_eq!(at("[::1]:7000").unwrap().to_string(), "[::1]:7000");
        for bad in [
            "localhost",
            "7000",
            "localhost:port",
            "no-such-host.invalid:7000",
        ] {
            let err = at(bad).unwrap_err().to_string();
            assert!(err.contains("ANTAEUS_HTTP_ADDR"), "{bad}: {err}");
        }
    }

    #[test]
    fn defaults_are_the_original_antaeus_with_the_documented_billing_defaults() {
        let s = load(&[]).unwrap();
        assert_eq!(s.database_url.backend(), Backend::Sqlite);
        assert_eq!(s.database_url.redacted(), "sqlite://antaeus.db");
        assert_eq!(s.http_addr.to_string(), "127.0.0.1:7000");
        assert!(matches!(s.provider, ProviderSettings::Simulated(_)));
        assert!(matches!(s.notifier, NotifierSettings::Log));
        assert_eq!(s.outbox.max_failures, 20);
        assert_eq!(s.billing.concurrency, 256);
        assert_eq!(s.billing.lease_timeout, Duration::from_secs(30));
        assert_eq!(
            s.billing.retry.dunning,
            [1, 3, 5, 7].map(TimeDelta::days).to_vec()
        );
        assert_eq!(s.billing.resend.tries, 3);
        assert_eq!(s.billing.resend.base, Duration::from_millis(200));
        assert_eq!(s.billing.resend.cap, Duration::from_secs(5));
        assert_eq!(s.billing.journal.give_up_after, Duration::from_secs(30));
        assert!(s.scheduler.enabled);
        assert_eq!(s.scheduler.monthly.expression(), "0 0 1 * *");
        assert_eq!(s.scheduler.retry.expression(), "0 * * * *");
        assert_eq!(s.tokens, ApiTokens::default());
        assert_eq!(s.log_format, LogFormat::Text);
        assert!(s.seed_demo_data);
        assert!(
            !load(&[("ANTAEUS_SEED_DEMO_DATA", "off")])
                .unwrap()
                .seed_demo_data
        );
    }

    #[test]
    fn secrets_never_print() {
        let s = load(&[
            ("ANTAEUS_DATABASE_URL", "postgres://u:hunter2@db/antaeus"),
            ("ANTAEUS_PAYMENT_PROVIDER", "http"),
            ("ANTAEUS_PAYMENT_PROVIDER_URL", "https://pay.example/v1"),
            ("ANTAEUS_PROVIDER_TOKEN", "tok_s3cr3t"),
            ("ANTAEUS_STRIPE_SECRET_KEY", "sk_live_s3cr3t"),
            ("ANTAEUS_WEBHOOK_URL", "https://hooks.example/in"),
            ("ANTAEUS_WEBHOOK_SECRET", "whsec_s3cr3t"),
            ("ANTAEUS_API_TOKEN", "api_s3cr3t"),
            ("ANTAEUS_READ_TOKEN", "read_s3cr3t"),
            (
                "ANTAEUS_CONSOLE_SECRET",
                "console_s3cr3t_0123456789abcdefghij",
            ),
        ])
        .unwrap();
        assert_eq!(s.database_url.backend(), Backend::Postgres);
        assert!(s.console_secret.is_some());
        let shown = format!("{s:?}");
        for secret in [
            "hunter2",
            "tok_s3cr3t",
            "whsec_s3cr3t",
            "api_s3cr3t",
            "read_s3cr3t",
            "console_s3cr3t",
        ] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }

    #[test]
    fn stripe_is_paced_needs_customer_references_and_never_shows_its_key() {
        let s = load(&[
            ("ANTAEUS_PAYMENT_PROVIDER", "stripe"),
            ("ANTAEUS_STRIPE_SECRET_KEY", "sk_live_s3cr3t"),
        ])
        .unwrap();
        assert!(s.billing.require_customer_ref);
        let ProviderSettings::Stripe {
            config,
            max_rps,
            webhook_secrets,
        } = &s.provider
        else {
            panic!("{:?}", s.provider);
        };
        assert_eq!(*max_rps, 80);
        assert!(webhook_secrets.is_empty());
        assert_eq!(config.api_base, "https://api.stripe.com");
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("s3cr3t") && shown.contains("live"),
            "{shown}"
        );
        let test_mode = load(&[
            ("ANTAEUS_PAYMENT_PROVIDER", "stripe"),
            ("ANTAEUS_STRIPE_SECRET_KEY", "sk_test_1"),
            ("ANTAEUS_STRIPE_API_BASE", "http://127.0.0.1:8420"),
            ("ANTAEUS_PROVIDER_MAX_RPS", "20"),
        ])
        .unwrap();
        assert!(matches!(
            test_mode.provider,
            ProviderSettings::Stripe { max_rps: 20, .. }
        ));
        assert!(!load(&[]).unwrap().billing.require_customer_ref);
    }

    #[test]
    fn the_configuration_line_shows_each_schedule_as_its_cron_expression() {
        let s = load(&[("ANTAEUS_RETRY_SCHEDULE", "*/15 * * * *")]).unwrap();
        let shown = format!("{s:?}");
        assert!(shown.contains(r#"monthly: "0 0 1 * *""#), "{shown}");
        assert!(shown.contains(r#"retry: "*/15 * * * *""#), "{shown}");
        // One readable line, not the cron parser's tables.
        assert!(shown.len() < 2_000, "{} characters: {shown}", shown.len());
    }

    #[test]
    fn billing_settings_are_read() {
        let s = load(&[
            ("ANTAEUS_CONCURRENCY", "1024"),
            ("ANTAEUS_LEASE_TIMEOUT_S", "5"),
            ("ANTAEUS_DUNNING_SCHEDULE", "12h, 2d"),
            ("ANTAEUS_OUTBOX_MAX_FAILURES", "5"),
            ("ANTAEUS_RECORD_RETRY_S", "2"),
        ])
        .unwrap();
        assert_eq!(s.outbox.max_failures, 5);
        assert_eq!(s.billing.concurrency, 1024);
        assert_eq!(s.billing.lease_timeout, Duration::from_secs(5));
        assert_eq!(s.billing.journal.give_up_after, Duration::from_secs(2));
        assert_eq!(
            s.billing.retry.dunning,
            vec![TimeDelta::hours(12), TimeDelta::days(2)]
        );
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for vars in [
            &[("ANTAEUS_DATABASE_URL", "mysql://x")][..],
            &[("ANTAEUS_HTTP_ADDR", "localhost")],
            &[("ANTAEUS_DB_POOL_SIZE", "0")],
            &[("ANTAEUS_SIMULATED_LATENCY_MS", "fast")],
            &[("ANTAEUS_CONCURRENCY", "0")],
            &[("ANTAEUS_LEASE_TIMEOUT_S", "-1")],
            &[("ANTAEUS_DUNNING_SCHEDULE", "1d,soon")],
            &[("ANTAEUS_OUTBOX_MAX_FAILURES", "0")],
            &[("ANTAEUS_OUTBOX_MAX_FAILURES", "many")],
            &[("ANTAEUS_PAYMENT_PROVIDER", "paypal")],
            &[("ANTAEUS_PAYMENT_PROVIDER", "http")],
            &[("ANTAEUS_PAYMENT_PROVIDER", "stripe")],
            &[("ANTAEUS_PROVIDER_MAX_RPS", "80")],
            &[("ANTAEUS_WEBHOOK_URL", "https://hooks.example/in")],
            &[("ANTAEUS_SCHEDULER", "sometimes")],
            &[("ANTAEUS_SCHEDULE", "monthly")],
            &[("ANTAEUS_RETRY_SCHEDULE", "* * *")],
            &[("ANTAEUS_API_TOKEN", "has space")],
            &[("ANTAEUS_LOG_FORMAT", "xml")],
            &[("ANTAEUS_SEED_DEMO_DATA", "maybe")],
        ] {
            let err = load(vars).unwrap_err();
            let var = vars[0].0;
            let named = err.var == var
                || (var == "ANTAEUS_PAYMENT_PROVIDER" && err.var == "ANTAEUS_PAYMENT_PROVIDER_URL")
                || (var == "ANTAEUS_PAYMENT_PROVIDER" && err.var == "ANTAEUS_STRIPE_SECRET_KEY")
                || (var == "ANTAEUS_WEBHOOK_URL" && err.var == "ANTAEUS_WEBHOOK_SECRET");
            assert!(named, "{vars:?}: {err}");
            assert!(err.to_string().starts_with(err.var), "{err}");
        }
    }
}
