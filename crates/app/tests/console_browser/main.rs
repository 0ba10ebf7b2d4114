//! The operator console in a real browser: headless Chromium, driven through chromedriver
//! (WebDriver), on the real server on a random port with SQLite.
//!
//! Chromium and chromedriver come from Debian (`.ci/chromium.sh` installs them). Where they are
//! missing each test prints a `SKIPPED:` line and returns, unless `ANTAEUS_REQUIRE_CHROMIUM=1`
//! (as `.ci/run` sets), which makes their absence a failure.

#[path = "../api/helpers.rs"]
#[allow(dead_code)]
mod helpers;

mod audit;
mod browser;
mod chromedriver;
mod console;
mod pages;

mod accessibility;
mod harness;
mod no_javascript;
mod operator;
mod runs;
mod screenshots;
mod viewer;
