//! The billing engine's stress test against the Stripe-shaped server: a thousand and more
//! invoices, every kind of customer, a hostile API (429s, 500s, answers lost after the charge),
//! three concurrent runs; then a day passes, so that Stripe forgets every key and the unknown
//! outcomes go through the 23-hour lookup (every answer to some customers' charges is lost, so
//! theirs are still unknown when Stripe forgets the keys). No invoice is charged twice, every
//! invoice ends PAID, FAILED or scheduled.

use std::sync::Arc;
use std::time::Duration;

use antaeus_app::provider::{RateLimit, RateLimitedProvider, StripePaymentProvider};
use antaeus_core::{ManualClock, Shutdown};
use antaeus_data::Backend;
use antaeus_models::{InvoiceStatus, ProviderRefs, RunStatus};
use chrono::TimeDelta;

use crate::billing_tests;
use crate::fake_stripe::{Card, FakeStripe, Hostility};
use crate::helpers::{assert_invariants, billing, refs, run_request, seed, stripe_config, t0};

billing_tests!(concurrent_runs_against_a_hostile_stripe_charge_nobody_twice);

const INVOICES: usize = 1_200;

/// The i-th customer: its references, and what its card does (`None`: unknown to Stripe).
fn customer(i: usize) -> (ProviderRefs, Option<Card>) {
    let id = format!("cus_{i:05}");
    match i % 50 {
        0..=4 => (
            refs(Some(&id), None),
            Some(Card::Declines("insufficient_funds")),
        ),
        5 => (refs(Some(&id), None), Some(Card::NeedsAuthentication)),
        6 | 7 => (refs(Some(&id), None), Some(Card::ProcessesFor(1))),
        8 => (refs(Some(&id), Some("pm_card")), None),
        9 => (refs(None, None), None),
        10 => (refs(Some(&id), Some("pm_card")), Some(Card::AnswersLost)),
        _ => (refs(Some(&id), Some("pm_card")), Some(Card::Succeeds)),
    }
}

async fn concurrent_runs_against_a_hostile_stripe_charge_nobody_twice(backend: Backend) {
    let Some(test_db) = antaeus_data::testing::TestDatabase::new(backend).await else {
        return;
    };
    let db = test_db.db.clone();
    let clock = Arc::new(ManualClock::new(t0()));
    let fake = FakeStripe::start(clock.clone());
    let customers: Vec<_> = (0..INVOICES).map(customer).collect();
    for (provider, card) in &customers {
        if let (Some(id), Some(card)) = (&provider.customer_ref, card) {
            fake.add_customer(id, card.clone());
        }
    }
    let rows: Vec<ProviderRefs> = customers.iter().map(|(p, _)| p.clone()).collect();
    seed(&db, &rows).await;
    fake.hostile(Hostility {
        rate_limited: 4,
        error_before: 4,
        slow_answer: 4,
        seed: 11,
    });
    let stripe = StripePaymentProvider::with_clock(
        &stripe_config(&fake.url, Duration::from_millis(300)),
        clock.clone(),
    )
    .unwrap();
    let provider = Arc::new(RateLimitedProvider::new(
        Arc::new(stripe),
        RateLimit::per_second(10_000),
    ));

    let mut runs = Vec::new();
    for n in 0..3 {
        let service = billing(
            &db,
            provider.clone(),
            clock.clone(),
            true,
            &format!("stress-{n}"),
        );
        runs.push(tokio::spawn(async move {
            service
                .bill(&run_request(&format!("stress-{n}")), Shutdown::never())
                .await
                .unwrap()
        }));
    }
    for run in runs {
        let run = run.await.unwrap();
        assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    }
    let first = assert_invariants(&db, |i| fake.charges_of(i)).await;
    assert!(
        first.unknown > 0,
        "the faults leave outcomes unknown: {first:?}"
    );

    // A day later Stripe has forgotten every key: unknown outcomes are looked up first, and
    // the declines are retried under new keys.
    clock.advance(TimeDelta::hours(25));
    antaeus_data::testing::age_charge_keys(&db, TimeDelta::hours(25)).await;
    let mut census = first;
    let mut rounds = 0;
    loop {
        rounds += 1;
        assert!(
            rounds <= 12,
            "unknown outcomes never resolved: {census:?}; searches {}, retrieves {}, creates {}",
            fake.requests("search"),
            fake.requests("retrieve"),
            fake.requests("create")
        );
        billing(&db, provider.clone(), clock.clone(), true, "stress-later")
            .bill(&run_request(&format!("later-{rounds}")), Shutdown::never())
            .await
            .unwrap();
        census = assert_invariants(&db, |i| fake.charges_of(i)).await;
        if census.unknown == 0 {
            break;
        }
        clock.advance(TimeDelta::hours(1));
    }
    assert!(
        fake.double_charged().is_empty(),
        "{:?}",
        fake.double_charged()
    );
    assert!(
        fake.requests("search") >= (INVOICES / 50) as u64,
        "the 23-hour lookup ran for every charge whose answers were lost"
    );
    let paid = census.by_status[&InvoiceStatus::Paid];
    assert_eq!(paid as u64, fake.total_charges(), "{census:?}");
    assert!(census.by_status[&InvoiceStatus::Failed] > 0, "{census:?}");
    eprintln!(
        "stripe stress ({backend:?}): {INVOICES} invoices, {census:?}; Stripe saw {} creates ({} replayed), {} searches, {} retrievals, {} 429s, {} 500s",
        fake.requests("create"),
        fake.requests("replay"),
        fake.requests("search"),
        fake.requests("retrieve"),
        fake.requests("429"),
        fake.requests("500"),
    );
}
