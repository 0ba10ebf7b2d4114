//! Thousands of invoices, a hostile provider, several concurrent runs; then time moves on and
//! later runs resolve every unknown outcome under its original key.

use std::sync::Arc;
use std::time::Duration;

use antaeus_core::billing::{
    BillingConfig, BillingDeps, BillingService, JournalConfig, ResendPolicy, SeededRandom,
};
use antaeus_core::{ManualClock, Shutdown};
use antaeus_data::{Backend, Database};
use antaeus_models::{InvoiceStatus, RunStatus, RunTrigger};
use chrono::{DateTime, TimeDelta, Utc};

use crate::billing_tests;
use crate::helpers::{
    assert_invariants, database, hostile_mix, run_request, seed_due_invoices, simulated,
};

billing_tests!(concurrent_runs_against_a_hostile_provider_keep_every_invariant);

const INVOICES: usize = 3_000;

fn service(
    db: &Database,
    provider: Arc<antaeus_app::provider::SimulatedPaymentProvider>,
    clock: Arc<ManualClock>,
    n: u64,
) -> BillingService {
    let store = Arc::new(db.clone());
    let deps = BillingDeps {
        billing: store.clone(),
        runs: store.clone(),
        instances: store,
        provider,
        clock,
        random: Arc::new(SeededRandom::new(n)),
    };
    let config = BillingConfig {
        concurrency: 64,
        max_claim: 100,
        resend: ResendPolicy {
            tries: 3,
            base: Duration::from_millis(2),
            cap: Duration::from_millis(10),
        },
        drain_poll: Duration::from_millis(20),
        journal: JournalConfig {
            flush_interval: Duration::from_millis(2),
            ..JournalConfig::default()
        },
        ..BillingConfig::default()
    };
    BillingService::new(deps, config, format!("stress-{n}"))
}

async fn concurrent_runs_against_a_hostile_provider_keep_every_invariant(backend: Backend) {
    let Some(test_db) = database(backend).await else {
        return;
    };
    let db = test_db.db.clone();
    seed_due_invoices(&db, INVOICES).await;
    let provider = simulated(hostile_mix(), 2, 42);
    let t0: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let clock = Arc::new(ManualClock::new(t0));

    // Three runs at once, as three instances would.
    let mut runs = Vec::new();
    for n in 0..3 {
        let billing = service(&db, provider.clone(), clock.clone(), n);
        runs.push(tokio::spawn(async move {
            billing
                .bill(
                    &run_request(format!("stress-{n}"), RunTrigger::Api),
                    Shutdown::never(),
                )
                .await
                .unwrap()
        }));
    }
    let mut claimed = 0;
    for run in runs {
        let run = run.await.unwrap();
        assert_eq!(run.status, RunStatus::Completed, "{run:?}");
        assert_eq!(run.counts.in_flight(), 0, "{run:?}");
        claimed += run.counts.claimed;
    }
    assert!(
        claimed >= INVOICES as u64,
        "every invoice claimed at least once: {claimed}"
    );
    let census = assert_invariants(&db, &provider).await;
    assert!(
        census.unknown > 0,
        "the mix leaves some outcomes unknown: {census:?}"
    );
    assert_eq!(
        census.attempt_rows,
        provider.summary().calls,
        "one attempt row per provider call"
    );
    let declined = census.by_status[&InvoiceStatus::Pending] - census.unknown;
    assert!(
        declined > 0 && census.by_status[&InvoiceStatus::Failed] > 0,
        "{census:?}"
    );

    // Later runs resend the unknown outcomes under their keys until none is left unknown.
    let mut rounds = 0;
    let mut census = census;
    while census.unknown > 0 {
        rounds += 1;
        assert!(rounds <= 12, "unknown outcomes never resolved: {census:?}");
        clock.advance(TimeDelta::hours(1));
        let run = service(&db, provider.clone(), clock.clone(), 10 + rounds)
            .bill(
                &run_request(format!("retry-{rounds}"), RunTrigger::Scheduler),
                Shutdown::never(),
            )
            .await
            .unwrap();
        assert_eq!(run.status, RunStatus::Completed);
        census = assert_invariants(&db, &provider).await;
    }
    // Settled: the provider charged exactly the PAID invoices (assert_invariants checks each),
    // and their number matches the ledger.
    assert_eq!(
        census.by_status[&InvoiceStatus::Paid] as u64,
        provider.summary().charges,
        "{census:?}"
    );
    // A day later the declines are retried under new keys; still nobody is charged twice.
    clock.advance(TimeDelta::days(1));
    service(&db, provider.clone(), clock.clone(), 99)
        .bill(
            &run_request("dunning-1", RunTrigger::Scheduler),
            Shutdown::never(),
        )
        .await
        .unwrap();
    let after = assert_invariants(&db, &provider).await;
    assert!(after.by_status[&InvoiceStatus::Paid] > census.by_status[&InvoiceStatus::Paid]);
}
