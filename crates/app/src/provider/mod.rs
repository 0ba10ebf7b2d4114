//! Payment providers Antaeus can charge through.

mod http;
mod profile;
mod simulated;
mod simulator_server;

pub use profile::{Outcome, OutcomeMix, SimulationProfile};
pub use simulated::{LedgerSummary, SimulatedPaymentProvider};
