//! Which payment provider to charge through (`ANTAEUS_PAYMENT_PROVIDER`).

use std::fmt;

use super::SettingsError;
use super::env::{Env, invalid};
use crate::provider::{HttpProviderConfig, SimulationProfile};

/// The payment provider settings.
#[derive(Clone)]
pub enum ProviderSettings {
    /// The in-process simulated provider (`simulated`, the default).
    Simulated(SimulationProfile),
    /// A remote provider speaking the Antaeus HTTP protocol (`http`).
    Http(HttpProviderConfig),
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProviderSettings::Simulated(profile) => {
                f.debug_tuple("Simulated").field(profile).finish()
            }
            // HttpProviderConfig's Debug hides the token.
            ProviderSettings::Http(config) => f.debug_tuple("Http").field(config).finish(),
        }
    }
}

/// Reads `ANTAEUS_PAYMENT_PROVIDER` and the variables of the chosen provider.
pub fn provider_settings(env: &Env<'_>) -> Result<ProviderSettings, SettingsError> {
    match env.string("ANTAEUS_PAYMENT_PROVIDER", "simulated").as_str() {
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
        other => Err(invalid(
            "ANTAEUS_PAYMENT_PROVIDER",
            format!("unknown provider {other:?}: expected simulated or http"),
        )),
    }
}
