//! The billing engine end to end: real storage (SQLite and PostgreSQL), the simulated provider
//! in process or over HTTP, and `antaeus bill` processes killed at random.

mod helpers;

mod crash;
mod multi_instance;
mod rate_limited;
mod shutdown;
mod stress;
mod webhook_delivery;
