//! The heart of Antaeus: services and the traits they depend on.
//!
//! This crate knows nothing of databases, HTTP or web frameworks. It speaks in the domain types
//! of `antaeus-models` and in traits ([`store::CustomerStore`], [`store::InvoiceStore`],
//! [`PaymentProvider`], [`Clock`]) that adapters implement: `antaeus-data` for storage,
//! `antaeus-app` for providers and configuration. Library users can plug in their own.

pub mod amount_limits;
pub mod billing;
pub mod clock;
pub mod error_report;
pub mod notify;
pub mod payment_provider;
pub mod provider_events;
pub mod scheduler;
pub mod service;
mod shutdown;
pub mod store;

pub use amount_limits::AmountLimits;
pub use clock::{Clock, ManualClock, SystemClock};
pub use payment_provider::{
    ChargeDecision, ChargeRequest, PaymentLookup, PaymentProvider, PaymentState, ProviderError,
    RefundDecision, RefundRequest,
};
pub use service::{
    ConsoleService, CustomerService, EventService, InvoiceService, RunService, RunView,
    ServiceError,
};
pub use shutdown::{Shutdown, ShutdownTrigger};
