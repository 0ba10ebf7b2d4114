//! One module per resource; a reader finds a handler by its URL.

pub mod billing_runs;
pub mod customers;
pub mod events;
pub mod fallback;
pub mod health;
pub mod invoice_attempts;
pub mod invoice_retry;
pub mod invoices;
pub mod metrics;
mod next_page;
pub mod openapi;
mod trigger_request;
