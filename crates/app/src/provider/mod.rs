//! Payment providers Antaeus can charge through.

mod http;
mod profile;
mod retry_after;
mod simulated;
mod simulator_server;

pub use http::{HttpPaymentProvider, HttpProviderConfig, HttpProviderError};
pub use profile::{Outcome, OutcomeMix, SimulationProfile};
pub use simulated::{LedgerSummary, SimulatedPaymentProvider};
pub use simulator_server::serve_simulator;
