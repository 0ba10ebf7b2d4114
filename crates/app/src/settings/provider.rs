//! Which payment provider to charge through (`ANTAEUS_PAYMENT_PROVIDER`).

use std::fmt;

use super::SettingsError;
use super::env::{Env, invalid};
use crate::provider::{
    HttpProviderConfig, STRIPE_DEFAULT_API_BASE, SimulationProfile, StripeConfig,
};

/// The Stripe provider's pace when `ANTAEUS_PROVIDER_MAX_RPS` is unset: under Stripe's default
/// live-mode limit of 100 requests per second.
pub const DEFAULT_STRIPE_MAX_RPS: u32 = 80;

/// The variable of the Stripe webhook endpoint's signing secrets.
const WEBHOOK_SECRET_VAR: &str = "ANTAEUS_STRIPE_WEBHOOK_SECRET";

/// The shortest webhook secret accepted (Stripe's are `whsec_` and 32 more characters).
const MIN_WEBHOOK_SECRET_LEN: usize = 8;

/// The payment provider settings.
#[derive(Clone)]
pub enum ProviderSettings {
    /// The in-process simulated provider (`simulated`, the default).
    Simulated(SimulationProfile),
    /// A remote provider speaking the Antaeus HTTP protocol (`http`).
    Http(HttpProviderConfig),
    /// Stripe (`stripe`), paced to `max_rps` calls per second.
    Stripe {
        /// Where Stripe is and the secret key.
        config: StripeConfig,
        /// `ANTAEUS_PROVIDER_MAX_RPS`: most calls per second per instance.
        max_rps: u32,
        /// `ANTAEUS_STRIPE_WEBHOOK_SECRET`: the webhook endpoint's signing secrets (`whsec_…`;
        /// two while one is rotated), none when Stripe's webhooks are not read.
        webhook_secrets: Vec<String>,
    },
}

impl ProviderSettings {
    /// Whether the provider charges customers by its own reference, so that an invoice whose
    /// customer has none must fail (`no_payment_method`) without a call.
    pub fn requires_customer_ref(&self) -> bool {
        matches!(self, ProviderSettings::Stripe { .. })
    }
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderSettings::Simulated(profile) => {
                f.debug_tuple("Simulated").field(profile).finish()
            }
            // HttpProviderConfig's Debug hides the token.
            ProviderSettings::Http(config) => f.debug_tuple("Http").field(config).finish(),
            // StripeConfig's Debug hides the secret key; of the webhook secrets, only how many.
            ProviderSettings::Stripe {
                config,
                max_rps,
                webhook_secrets,
            } => f
                .debug_struct("Stripe")
                .field("config", config)
                .field("max_rps", max_rps)
                .field(
                    "webhook_secrets",
                    &format_args!("<{} redacted>", webhook_secrets.len()),
                )
                .finish(),
        }
    }
}

/// Reads `ANTAEUS_PAYMENT_PROVIDER` and the variables of the chosen provider.
pub fn provider_settings(env: &Env<'_>) -> Result<ProviderSettings, SettingsError> {
    let name = env.string("ANTAEUS_PAYMENT_PROVIDER", "simulated");
    if name != "stripe" && env.optional("ANTAEUS_PROVIDER_MAX_RPS").is_some() {
        return Err(invalid(
            "ANTAEUS_PROVIDER_MAX_RPS",
            "only the stripe provider is rate limited",
        ));
    }
    if name != "stripe" && env.optional(WEBHOOK_SECRET_VAR).is_some() {
        return Err(invalid(
            WEBHOOK_SECRET_VAR,
            "only the stripe provider reads Stripe's webhooks",
        ));
    }
    match name.as_str() {
        "simulated" => Ok(ProviderSettings::Simulated(SimulationProfile::from_env(
            env,
        )?)),
        "http" => {
            let base_url = env.optional("ANTAEUS_PAYMENT_PROVIDER_URL").ok_or_else(|| {
                invalid(
                    "ANTAEUS_PAYMENT_PROVIDER_URL",
                    "required when ANTAEUS_PAYMENT_PROVIDER=http (e.g. https://payments.example.com/v1)",
                )
            })?;
            Ok(ProviderSettings::Http(HttpProviderConfig {
                base_url,
                timeout: env.millis("ANTAEUS_PROVIDER_TIMEOUT_MS", 10_000, 1, 600_000)?,
                token: env.optional("ANTAEUS_PROVIDER_TOKEN"),
            }))
        }
        "stripe" => Ok(ProviderSettings::Stripe {
            config: stripe_config(env)?,
            max_rps: env.integer(
                "ANTAEUS_PROVIDER_MAX_RPS",
                u64::from(DEFAULT_STRIPE_MAX_RPS),
                1,
                10_000,
            )? as u32,
            webhook_secrets: webhook_secrets(env)?,
        }),
        other => Err(invalid(
            "ANTAEUS_PAYMENT_PROVIDER",
            format!("unknown provider {other:?}: expected simulated, http or stripe"),
        )),
    }
}

/// `ANTAEUS_STRIPE_SECRET_KEY` (required), `ANTAEUS_STRIPE_API_BASE`, `ANTAEUS_PROVIDER_TIMEOUT_MS`.
fn stripe_config(env: &Env<'_>) -> Result<StripeConfig, SettingsError> {
    let secret_key = env.optional("ANTAEUS_STRIPE_SECRET_KEY").ok_or_else(|| {
        invalid(
            "ANTAEUS_STRIPE_SECRET_KEY",
            "required when ANTAEUS_PAYMENT_PROVIDER=stripe (sk_live_…, sk_test_… or rk_…)",
        )
    })?;
    let config = StripeConfig {
        api_base: env.string("ANTAEUS_STRIPE_API_BASE", STRIPE_DEFAULT_API_BASE),
        secret_key,
        timeout: env.millis("ANTAEUS_PROVIDER_TIMEOUT_MS", 10_000, 1, 600_000)?,
    };
    // Checked now, so that a bad value stops the process with the variable's name.
    crate::provider::StripePaymentProvider::new(&config).map_err(|e| {
        let var = match e {
            crate::provider::StripeConfigError::InvalidApiBase(_) => "ANTAEUS_STRIPE_API_BASE",
            crate::provider::StripeConfigError::InvalidSecretKey => "ANTAEUS_STRIPE_SECRET_KEY",
            _ => "ANTAEUS_PROVIDER_TIMEOUT_MS",
        };
        invalid(var, e.to_string())
    })?;
    Ok(config)
}

/// `ANTAEUS_STRIPE_WEBHOOK_SECRET`: comma-separated secrets, each trimmed; none when unset. A
/// refusal says which entry and why, never what it is.
fn webhook_secrets(env: &Env<'_>) -> Result<Vec<String>, SettingsError> {
    let Some(raw) = env.optional(WEBHOOK_SECRET_VAR) else {
        return Ok(Vec::new());
    };
    let entries: Vec<&str> = raw.split(',').map(str::trim).collect();
    let count = entries.len();
    entries
        .into_iter()
        .enumerate()
        .map(|(i, secret)| {
            let which = format!("secret {} of {count}", i + 1);
            if secret.is_empty() {
                Err(invalid(WEBHOOK_SECRET_VAR, format!("{which} is empty")))
            } else if !secret.bytes().all(|b| b.is_ascii_graphic()) {
                Err(invalid(
                    WEBHOOK_SECRET_VAR,
                    format!("{which} has a character that is not visible ASCII"),
                ))
            } else if secret.len() < MIN_WEBHOOK_SECRET_LEN {
                Err(invalid(
                    WEBHOOK_SECRET_VAR,
                    format!("{which} is shorter than {MIN_WEBHOOK_SECRET_LEN} characters"),
                ))
            } else {
                Ok(secret.to_owned())
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;
    use super::*;

    /// The provider settings of an environment of just `vars`, read as start-up reads them.
    fn read(vars: &[(&str, &str)]) -> Result<ProviderSettings, SettingsError> {
        load(vars).map(|settings| settings.provider)
    }

    fn stripe_with(secret: Option<&str>) -> Result<Vec<String>, SettingsError> {
        let mut vars = vec![
            ("ANTAEUS_PAYMENT_PROVIDER", "stripe"),
            ("ANTAEUS_STRIPE_SECRET_KEY", "sk_test_1"),
        ];
        vars.extend(secret.map(|s| (WEBHOOK_SECRET_VAR, s)));
        match read(&vars)? {
            ProviderSettings::Stripe {
                webhook_secrets, ..
            } => Ok(webhook_secrets),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stripe_webhook_secrets_are_a_trimmed_list_shown_only_by_count() {
        assert_eq!(stripe_with(None).unwrap(), Vec::<String>::new());
        assert_eq!(
            stripe_with(Some(" whsec_old_s3cr3t , whsec_new_s3cr3t ")).unwrap(),
            ["whsec_old_s3cr3t", "whsec_new_s3cr3t"]
        );
        let settings = read(&[
            ("ANTAEUS_PAYMENT_PROVIDER", "stripe"),
            ("ANTAEUS_STRIPE_SECRET_KEY", "sk_test_1"),
            (WEBHOOK_SECRET_VAR, "whsec_old_s3cr3t,whsec_new_s3cr3t"),
        ])
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(shown.contains("webhook_secrets: <2 redacted>"), "{shown}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
    }

    #[test]
    fn a_bad_webhook_secret_is_refused_by_name_without_its_value() {
        for bad in [
            "whsec_good_s3cr3t,",
            "whsec_good_s3cr3t,,whsec_other_s3cr3t",
            "whsec_s",
            "whsec_has space",
            "whsec_caf\u{e9}_s3cr3t",
        ] {
            let err = stripe_with(Some(bad)).unwrap_err();
            assert_eq!(err.var, WEBHOOK_SECRET_VAR, "{bad:?}");
            let line = err.to_string();
            assert!(line.starts_with(WEBHOOK_SECRET_VAR), "{line}");
            assert!(!line.contains("whsec_"), "{bad:?}: {line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }

    #[test]
    fn a_webhook_secret_without_the_stripe_provider_is_refused() {
        for provider in ["simulated", "http"] {
            let err = read(&[
                ("ANTAEUS_PAYMENT_PROVIDER", provider),
                ("ANTAEUS_PAYMENT_PROVIDER_URL", "https://pay.example/v1"),
                (WEBHOOK_SECRET_VAR, "whsec_s3cr3t_value"),
            ])
            .unwrap_err();
            assert_eq!(err.var, WEBHOOK_SECRET_VAR, "{provider}");
            assert!(!err.to_string().contains("s3cr3t"), "{err}");
        }
    }
}
