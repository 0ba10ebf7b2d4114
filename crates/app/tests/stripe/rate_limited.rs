//! Drill: Stripe's rate limit is lower than the pace configured (25 requests per second
//! against 40). The first 429s halve the pace under the limit, nothing is lost, nobody is
//! charged twice, and the circuit breaker does not abort the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use antaeus_app::provider::{RateLimit, RateLimitedProvider, StripePaymentProvider};
use antaeus_core::{Shutdown, SystemClock};
use antaeus_data::Backend;
use antaeus_models::{InvoiceStatus, RunStatus};

use crate::billing_tests;
use crate::fake_stripe::{Card, FakeStripe};
use crate::helpers::{assert_invariants, billing, refs, run_request, seed, stripe_config};

billing_tests!(a_rate_limit_below_the_pace_slows_the_run_but_loses_nothing);

const INVOICES: usize = 120;

async fn a_rate_limit_below_the_pace_slows_the_run_but_loses_nothing(backend: Backend) {
    let Some(test_db) = antaeus_data::testing::TestDatabase::new(backend).await else {
        return;
    };
    let db = test_db.db.clone();
    let clock = Arc::new(SystemClock);
    let fake = FakeStripe::start(clock.clone());
    fake.add_customer("cus_ok", Card::Succeeds);
    fake.limit_rate(25);
    seed(&db, &vec![refs(Some("cus_ok"), Some("pm_card")); INVOICES]).await;
    let stripe = StripePaymentProvider::with_clock(
        &stripe_config(&fake.url, Duration::from_secs(5)),
        clock.clone(),
    )
    .unwrap();
    let provider = Arc::new(RateLimitedProvider::new(
        Arc::new(stripe),
        RateLimit::per_second(40),
    ));
    // The slowest pace seen while the run goes.
    let slowest = Arc::new(AtomicU64::new(40));
    let watcher = {
        let (provider, slowest) = (provider.clone(), slowest.clone());
        tokio::spawn(async move {
            loop {
                slowest.fetch_min(provider.current_rps() as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };

    let started = Instant::now();
    let service = billing(&db, provider.clone(), clock.clone(), true, "rate-limited");
    let run = service
        .bill(&run_request("rate-limited"), Shutdown::never())
        .await
        .unwrap();
    let took = started.elapsed();
    watcher.abort();
    assert_eq!(run.status, RunStatus::Completed, "not aborted: {run:?}");
    let limited = fake.requests("429");
    assert!(limited > 0, "Stripe rate limited some calls");
    assert!(
        slowest.load(Ordering::Relaxed) <= 20,
        "a 429 halved the pace: {}",
        slowest.load(Ordering::Relaxed)
    );
    assert!(
        limited < INVOICES as u64 / 4,
        "the pace fell under the limit instead of learning it from 429s: {limited}"
    );
    let census = assert_invariants(&db, |i| fake.charges_of(i)).await;
    // Whatever was still rate limited after its resends is PENDING, unknown, same key.
    assert_eq!(
        census
            .by_status
            .get(&InvoiceStatus::Paid)
            .copied()
            .unwrap_or(0)
            + census.unknown,
        INVOICES,
        "{census:?}"
    );
    assert!(fake.double_charged().is_empty());
    eprintln!(
        "stripe rate-limit drill ({backend:?}): {INVOICES} invoices in {took:.1?}, {limited} answered 429, slowest pace {} calls/s, {census:?}",
        slowest.load(Ordering::Relaxed)
    );
}
