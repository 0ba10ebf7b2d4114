//! The `antaeus` binary's parts: configuration, wiring, seeding, providers and commands.
//! `main.rs` only parses the command line and reports errors.

pub mod bench;
pub mod c_heap;
pub mod cli;
pub mod commands;
pub mod cron_schedule;
pub mod import;
pub mod notify;
pub mod observability;
pub mod progress;
pub mod provider;
pub mod reconcile;
pub mod seed;
pub mod settings;
pub mod signals;
pub mod startup;
pub mod telemetry;
pub mod wiring;
