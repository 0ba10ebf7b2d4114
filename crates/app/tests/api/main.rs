//! Black-box tests of the REST API: the real server on a random port, on SQLite and PostgreSQL.

mod helpers;

mod auth;
mod billing_runs;
mod console;
mod console_charged_twice;
mod console_client;
mod console_instances;
mod console_payments;
mod console_sign_in;
mod customers;
mod customers_create;
mod customers_update;
mod database_outage;
mod db_proxy;
mod errors;
mod events;
mod health;
mod invoice_attempts;
mod invoice_retry;
mod invoices;
mod invoices_batch;
mod invoices_create;
mod invoices_create_input;
mod invoices_void;
mod list_filters;
mod malformed;
mod operations;
mod orphaned_runs;
mod refunds;
mod run_scopes;
mod scheduler;
mod seeding;
mod token_rotation;
