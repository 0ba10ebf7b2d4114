//! Antaeus storage on SQLite (the embedded default) and PostgreSQL (the scale-out engine).
//!
//! [`Database`] owns a connection pool for one of the two backends and implements the store
//! traits of `antaeus-core`. Queries are written once: the [`with_conn!`] family of macros expands
//! the same diesel code for each concrete connection type, which (unlike
//! `#[derive(MultiConnection)]`) also covers multi-row inserts, `ON CONFLICT` and `RETURNING`.
//! Blocking diesel calls run on tokio's blocking pool, never on the async workers.

#[macro_use]
mod pool;

pub mod admin;
mod autovacuum;
mod billing;
mod by_hand;
mod console;
mod creation;
mod customers;
mod database;
mod db_time;
mod deployment;
mod disk_space;
mod error;
mod invoices;
mod json_param;
mod migrate;
mod openssl_init;
mod payments;
mod refunds;
mod rows;
mod schema;
mod seed;
mod size;
mod sqlite_init;
mod stats;
mod status_filter;
mod store_clock;
mod time;
mod tls_hint;
mod url;
mod void;

#[cfg(feature = "test-support")]
pub mod testing;

pub use database::{Database, PoolOptions};
pub use error::DataError;
pub use seed::NewInvoice;
pub use url::{Backend, DatabaseUrl};
