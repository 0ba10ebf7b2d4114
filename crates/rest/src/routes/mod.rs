//! One module per resource; a reader finds a handler by its URL.

pub mod billing_runs;
mod created;
pub mod customers;
pub mod events;
pub mod fallback;
pub mod health;
mod idempotency_key;
pub mod invoices;
mod json_body;
pub mod metrics;
mod next_page;
pub mod openapi;
mod trigger_request;
pub mod webhooks;
