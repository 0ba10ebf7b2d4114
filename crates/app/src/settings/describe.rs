//! The configuration as the start-up log shows it: words and durations (`1d, 3d`, `30s`,
//! `200ms`), secrets never shown, one line an operator can read.

use std::time::Duration;

use chrono::TimeDelta;

use super::{NotifierSettings, ProviderSettings, Settings};

impl Settings {
    /// The configuration in words, secrets left out (only whether they are set).
    pub fn describe(&self) -> String {
        let b = &self.billing;
        let o = &self.outbox;
        let s = &self.scheduler;
        let dunning: Vec<String> = b.retry.dunning.iter().map(|d| delta(*d)).collect();
        [
            format!("database {}", self.database_url.redacted()),
            format!("API on {}", self.http_addr),
            format!("{} database connections", self.db_pool_size),
            format!("provider {}", provider(&self.provider)),
            format!("events {}", notifier(&self.notifier)),
            format!(
                "billing: {} calls in flight, lease {}, call timeout {}, resends {} (backoff {} to {}), \
                 dunning after {}, unknown outcomes retried after {} doubling to {}, \
                 breaker cool-down {}, a run stops after {} of provider outage, shutdown grace {}, \
                 outcomes written for up to {} before a run stops",
                b.concurrency,
                duration(b.lease_timeout),
                duration(b.call_timeout),
                b.resend.tries,
                duration(b.resend.base),
                duration(b.resend.cap),
                dunning.join(", "),
                delta(b.retry.unknown_base),
                delta(b.retry.unknown_cap),
                duration(b.breaker.cool_down),
                duration(b.max_outage),
                duration(b.shutdown_grace),
                duration(b.journal.give_up_after),
            ),
            format!(
                "outbox: {} events a batch, retries after {} doubling to {}, dead after {} failures",
                o.batch,
                duration(o.retry_base),
                duration(o.retry_cap),
                o.max_failures
            ),
            if s.enabled {
                format!(
                    "scheduler on: monthly run \"{}\", retry sweep \"{}\" (UTC), missed fires made up within {}",
                    s.monthly.expression(),
                    s.retry.expression(),
                    duration(s.catch_up)
                )
            } else {
                "scheduler off".to_owned()
            },
            format!("reconciliation every {}", duration(self.reconcile_every)),
            format!(
                "demo data {}",
                if self.seed_demo_data { "on" } else { "off" }
            ),
            format!(
                "console secret {}",
                if self.console_secret.is_some() {
                    "set"
                } else {
                    "unset (random per process)"
                }
            ),
        ]
        .join("; ")
    }
}

/// The provider in words.
fn provider(settings: &ProviderSettings) -> String {
    match settings {
        ProviderSettings::Simulated(p) => format!(
            "simulated (outcomes {:?}, latency {} ± {}, seed {})",
            p.outcomes,
            duration(p.latency),
            duration(p.jitter),
            p.seed
        ),
        ProviderSettings::Http(c) => format!(
            "http at {} (timeout {}, token {})",
            crate::provider::without_password(&c.base_url),
            duration(c.timeout),
            if c.token.is_some() { "set" } else { "unset" }
        ),
        ProviderSettings::Stripe {
            config,
            max_rps,
            webhook_secrets,
        } => format!(
            "stripe at {} (timeout {}, at most {max_rps} calls/s, {} webhook signing secret(s))",
            config.api_base,
            duration(config.timeout),
            webhook_secrets.len()
        ),
    }
}

/// Where events go, in words.
fn notifier(settings: &NotifierSettings) -> String {
    match settings {
        NotifierSettings::Log => "written to the log".to_owned(),
        NotifierSettings::Webhook(c) => {
            // Webhook URLs often carry a token in their path or query: the origin only.
            let url = crate::notify::webhook::redact_url(&c.url);
            format!("posted to {url} (timeout {})", duration(c.timeout))
        }
    }
}

/// A wait as `1d`, `3h`, `30m`, `90s`, `1.5s` or `200ms`.
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    if !ms.is_multiple_of(1_000) {
        return format!("{}s", d.as_secs_f64());
    }
    let secs = d.as_secs();
    match secs {
        s if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        s if s.is_multiple_of(3_600) => format!("{}h", s / 3_600),
        s if s.is_multiple_of(60) => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// [`duration`] of a chrono delta (a negative one reads as zero).
fn delta(d: TimeDelta) -> String {
    duration(d.to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::load;

    #[test]
    fn waits_read_as_durations() {
        for (d, shown) in [
            (Duration::from_millis(200), "200ms"),
            (Duration::from_millis(1_500), "1.5s"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_secs(1_800), "30m"),
            (Duration::from_secs(7_200), "2h"),
            (Duration::from_secs(86_400 * 3), "3d"),
        ] {
            assert_eq!(duration(d), shown);
        }
    }

    #[test]
    fn the_default_configuration_reads_as_words_and_hides_secrets() {
        let text = load(&[
            (
                "ANTAEUS_DATABASE_URL",
                "postgres://u:hunter2@db:5432/antaeus",
            ),
            ("ANTAEUS_SIMULATED_SEED", "7"),
        ])
        .unwrap()
        .describe();
        for part in [
            "API on 127.0.0.1:7000",
            "dunning after 1d, 3d, 5d, 7d",
            "unknown outcomes retried after 30s doubling to 30m",
            "latency 50ms ± 10ms, seed 7",
            "events written to the log",
            "scheduler on: monthly run \"0 0 1 * *\"",
            "reconciliation every 5m",
        ] {
            assert!(text.contains(part), "{part:?} in {text}");
        }
        for debug in ["TimeDelta", "secs:", "Settings {", "{ ", "hunter2"] {
            assert!(!text.contains(debug), "{debug:?} in {text}");
        }
    }

    /// Secrets travel in URLs too: a webhook's path or query, a provider URL's password.
    #[test]
    fn urls_are_shown_without_the_secrets_they_carry() {
        let text = load(&[
            (
                "ANTAEUS_WEBHOOK_URL",
                "https://hooks.example/services/T0/B0/s3cr3tpath?token=s3cr3tquery",
            ),
            ("ANTAEUS_WEBHOOK_SECRET", "whsec_s3cr3t"),
            ("ANTAEUS_PAYMENT_PROVIDER", "http"),
            (
                "ANTAEUS_PAYMENT_PROVIDER_URL",
                "https://user:s3cr3tpass@provider.example/v1",
            ),
        ])
        .unwrap()
        .describe();
        assert!(text.contains("posted to https://hooks.example/…"), "{text}");
        assert!(
            text.contains("http at https://user:redacted@provider.example/v1"),
            "{text}"
        );
        for secret in ["s3cr3tpath", "s3cr3tquery", "whsec_s3cr3t", "s3cr3tpass"] {
            assert!(!text.contains(secret), "{secret:?} in {text}");
        }
    }
}
