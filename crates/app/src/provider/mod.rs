//! Payment providers Antaeus can charge through.

mod profile;
mod simulated;

pub use profile::{Outcome, OutcomeMix, SimulationProfile};
pub use simulated::{LedgerSummary, SimulatedPaymentProvider};
