//! Payment providers Antaeus can charge through.

mod http;
pub(crate) use http::without_password;
mod profile;
mod rate_limit;
mod retry_after;
mod simulated;
mod simulator_keys;
mod simulator_server;
mod stripe;

pub use http::{HttpPaymentProvider, HttpProviderConfig, HttpProviderError};
pub use profile::{Outcome, OutcomeMix, SimulationProfile};
pub use rate_limit::{RateLimit, RateLimitedProvider};
pub use simulated::{LedgerSummary, SimulatedPaymentProvider};
pub use simulator_server::serve_simulator;
pub use stripe::{
    API_VERSION as STRIPE_API_VERSION, DEFAULT_API_BASE as STRIPE_DEFAULT_API_BASE, KEY_MEMORY,
    StripeConfig, StripeConfigError, StripePaymentProvider, StripeWebhookReader,
    amount_limits as stripe_amount_limits,
};
