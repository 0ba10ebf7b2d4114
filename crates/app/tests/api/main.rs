//! Black-box tests of the REST API: the real server on a random port, on SQLite and PostgreSQL.

mod helpers;

mod customers;
mod errors;
mod health;
mod invoices;
