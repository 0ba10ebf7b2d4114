//! The alerts and the dashboard of `deploy/observability/` against Debian's Prometheus:
//! `promtool` checks and unit-tests the rules (`promtool.rs`), and a real Prometheus scrapes a
//! running `antaeus serve` through a provider made to fail, then answers every dashboard query,
//! evaluates every rule without error and fires the alerts of that scenario (`live.rs`).
//!
//! Without `prometheus` and `promtool` these tests print a `SKIPPED` line and pass, unless
//! `ANTAEUS_REQUIRE_PROMETHEUS=1` (set by `.ci/run`): then they fail.

mod deploy_files;
mod fake_provider;
mod live;
mod prometheus_server;
mod promtool;
mod tools;
