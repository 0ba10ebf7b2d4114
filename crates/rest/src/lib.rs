//! Antaeus' REST API.
//!
//! The original Antaeus paths and JSON shapes (`/rest/health`, `/rest/v1/invoices`,
//! `/rest/v1/customers`), with pagination, billing runs, charge attempts, retries, billing events,
//! readiness, metrics and an OpenAPI document added; every error is an RFC 9457
//! `application/problem+json` body. Handlers call `antaeus-core` services only. Beside it,
//! the operator console: server-rendered pages under `/console`.

mod auth;
mod console;
mod json;
mod ops;
mod params;
mod problem;
mod routes;
mod server;
mod tokens;

pub use auth::{ApiTokens, same_secret};
pub use console::{
    CSP, ConsoleSecret, ConsoleState, MIN_SECRET_LEN, NotAProxy, SecretTooShort, TrustedProxies,
};
pub use ops::{MetricsSource, Readiness};
pub use problem::{ApiError, PROBLEM_JSON, Problem};
pub use routes::openapi::ApiDoc;
pub use server::{ApiState, BODY_LIMIT, ROUTES, configure, serve};
pub use tokens::{MAX_TOKEN_LEN, MAX_TOKENS, Tokens, TokensError};
