//! Antaeus' REST API.
//!
//! The original Antaeus paths and JSON shapes (`/rest/health`, `/rest/v1/invoices`,
//! `/rest/v1/customers`), with keyset pagination added, and every error answered as an RFC 9457
//! `application/problem+json` body. Handlers call `antaeus-core` services only.

mod json;
mod params;
mod problem;
mod routes;
mod server;

pub use problem::{ApiError, Problem};
pub use server::{ApiState, configure, serve};
