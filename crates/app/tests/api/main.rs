//! Black-box tests of the REST API: the real server on a random port, on SQLite and PostgreSQL.

mod helpers;

mod auth;
mod billing_runs;
mod customers;
mod database_outage;
mod db_proxy;
mod errors;
mod events;
mod health;
mod invoice_retry;
mod invoices;
mod malformed;
mod operations;
mod orphaned_runs;
mod run_scopes;
mod scheduler;
