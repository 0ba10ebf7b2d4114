//! Turns settings into the concrete parts the services run on: provider, notifier, billing.

use std::sync::Arc;

use antaeus_core::billing::{BillingDeps, BillingService, SeededRandom};
use antaeus_core::notify::{FailureNotifier, LogNotifier, OutboxWorker};
use antaeus_core::provider_events::WebhookReader;
use antaeus_core::{AmountLimits, Clock, PaymentProvider, SystemClock};
use antaeus_data::Database;
use anyhow::Context;

use crate::notify::WebhookNotifier;
use crate::provider::{
    HttpPaymentProvider, RateLimit, RateLimitedProvider, SimulatedPaymentProvider,
    StripePaymentProvider, StripeWebhookReader,
};
use crate::settings::{NotifierSettings, ProviderSettings, Settings};

/// The payment provider in use; the simulated one is kept for its ledger.
#[derive(Clone)]
pub struct Provider {
    /// What billing charges through.
    pub charger: Arc<dyn PaymentProvider>,
    /// The simulated provider, when that is the one in use.
    pub simulated: Option<Arc<SimulatedPaymentProvider>>,
}

/// Builds the provider the settings choose.
pub fn provider(settings: &ProviderSettings) -> anyhow::Result<Provider> {
    Ok(match settings {
        ProviderSettings::Simulated(profile) => {
            let simulated = Arc::new(SimulatedPaymentProvider::new(*profile));
            Provider {
                charger: simulated.clone(),
                simulated: Some(simulated),
            }
        }
        ProviderSettings::Http(config) => Provider {
            charger: Arc::new(HttpPaymentProvider::new(config.clone()).context(
                "invalid configuration: ANTAEUS_PAYMENT_PROVIDER_URL / ANTAEUS_PROVIDER_TOKEN",
            )?),
            simulated: None,
        },
        ProviderSettings::Stripe {
            config, max_rps, ..
        } => {
            let stripe = StripePaymentProvider::new(config).context(
                "invalid configuration: ANTAEUS_STRIPE_API_BASE / ANTAEUS_STRIPE_SECRET_KEY",
            )?;
            Provider {
                charger: Arc::new(RateLimitedProvider::new(
                    Arc::new(stripe),
                    RateLimit::per_second(*max_rps),
                )),
                simulated: None,
            }
        }
    })
}

/// Reads the payment provider's webhooks, when the provider sends them and a signing secret
/// is configured.
pub fn webhook_reader(settings: &ProviderSettings) -> Option<Arc<dyn WebhookReader>> {
    match settings {
        ProviderSettings::Stripe {
            webhook_secrets, ..
        } if !webhook_secrets.is_empty() => {
            Some(Arc::new(StripeWebhookReader::new(webhook_secrets.clone())))
        }
        _ => None,
    }
}

/// The amounts the configured provider charges at all (invoices outside them are refused).
pub fn amount_limits(settings: &ProviderSettings) -> AmountLimits {
    match settings {
        ProviderSettings::Stripe { .. } => crate::provider::stripe_amount_limits(),
        _ => AmountLimits::none(),
    }
}

/// Builds the notifier the settings choose.
pub fn notifier(
    settings: &NotifierSettings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<Arc<dyn FailureNotifier>> {
    Ok(match settings {
        NotifierSettings::Log => Arc::new(LogNotifier),
        NotifierSettings::Webhook(config) => Arc::new(
            WebhookNotifier::new(config.clone(), clock)
                .context("invalid configuration: ANTAEUS_WEBHOOK_URL / ANTAEUS_WEBHOOK_SECRET")?,
        ),
    })
}

/// The billing service on `db`, charging through `provider`.
pub fn billing_service(
    db: &Database,
    provider: &Provider,
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> BillingService {
    let store = Arc::new(db.clone());
    let deps = BillingDeps {
        billing: store.clone(),
        runs: store.clone(),
        instances: store,
        provider: provider.charger.clone(),
        clock,
        random: Arc::new(SeededRandom::from_entropy()),
    };
    BillingService::new(deps, settings.billing.clone(), instance_prefix())
}

/// The outbox worker delivering `db`'s events through the configured notifier.
pub fn outbox_worker(
    db: &Database,
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<OutboxWorker> {
    let notifier = notifier(&settings.notifier, clock.clone())?;
    Ok(OutboxWorker::new(
        Arc::new(db.clone()),
        notifier,
        clock,
        settings.outbox,
    ))
}

/// The wall clock.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// `<host>-<pid>`: names this process in claims and run records.
pub fn instance_prefix() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(char::is_ascii_graphic)
                .take(60)
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "antaeus".to_owned());
    format!("{host}-{}", std::process::id())
}
