//! The billing engine end to end: real storage (SQLite and PostgreSQL), the simulated provider
//! in process or over HTTP, `antaeus bill` processes killed at random, and a full disk.

mod helpers;
mod tmpfs;

mod crash;
mod full_disk;
mod multi_instance;
mod rate_limited;
mod shutdown;
mod stress;
mod unreachable_provider;
mod webhook_delivery;
