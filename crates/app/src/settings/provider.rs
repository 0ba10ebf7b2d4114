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
            // StripeConfig's Debug hides the secret key.
            ProviderSettings::Stripe { config, max_rps } => f
                .debug_struct("Stripe")
                .field("config", config)
                .field("max_rps", max_rps)
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
