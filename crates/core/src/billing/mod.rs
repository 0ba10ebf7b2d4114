//! The billing engine: concurrent, idempotent, crash-safe charging of due invoices.
//!
//! A run claims due invoices in batches (with the intent of each provider call written in the
//! claim's transaction), charges them concurrently up to a bound, resends unknown outcomes
//! under the same idempotency key, and hands every result to a journal writer that applies the
//! state machine's transitions in batched transactions. See `docs` in the README and
//! `../shared/billing-engine-notes.md` for the crash windows this closes.

mod charge;
mod charge_key;
mod charge_metrics;
mod circuit_breaker;
mod config;
mod execute;
mod executor;
mod heartbeat;
mod journal_writer;
#[cfg(test)]
mod journal_writer_tests;
mod random;
mod retry_policy;
mod run_driver;
mod service;
mod settlement;
mod state_machine;
#[cfg(test)]
mod task_size_tests;
#[cfg(test)]
mod tests;

pub use charge::transition_event;
pub use charge_key::{charge_key, parse_charge_key};
pub use charge_metrics::ResponseClass;
pub use circuit_breaker::{BreakerConfig, BreakerState, CircuitBreaker, Permit};
pub use config::{BillingConfig, JournalConfig};
pub use executor::{RunExecutor, Triggered};
pub use random::{Randomness, SeededRandom};
pub use retry_policy::{ResendPolicy, RetryPolicy};
pub use run_driver::OnStop;
pub use service::{BillingDeps, BillingError, BillingService, RunRequest};
pub use settlement::{PaymentNews, Settlement, Settling, settle};
pub use state_machine::{ChargeEvent, ChargeState, OpenIntent, RunResult, Transition, transition};
