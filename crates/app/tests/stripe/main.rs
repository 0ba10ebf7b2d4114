//! The `stripe` payment provider end to end: against a Stripe-shaped local server that
//! honours idempotency keys like Stripe and faults on demand (`fake_stripe`), through the
//! billing engine with real storage, and against localstripe, a Stripe stand-in written by
//! others (skipped with a `SKIPPED` line unless `ANTAEUS_TEST_LOCALSTRIPE_URL` is set).

// The billing tests' helpers: `all_invoices` and the `billing_tests!` macro.
#[allow(dead_code)]
#[path = "../billing/helpers.rs"]
mod billing_helpers;
// The API tests' helpers: the real server on a random port (`spawn_app_with`).
#[allow(dead_code, unused_macros)]
#[path = "../api/helpers.rs"]
mod api_helpers;
mod fake_stripe;
mod helpers;

mod adapter;
mod billing;
mod lifecycle;
mod localstripe;
mod rate_limited;
mod stress;
mod webhooks;
