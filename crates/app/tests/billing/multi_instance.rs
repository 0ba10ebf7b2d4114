//! Three `antaeus bill` processes on one database at once.

use antaeus_data::Backend;
use antaeus_models::InvoiceStatus;

use crate::billing_tests;
use crate::helpers::{
    bill_env, bill_to_completion, database, hostile_mix, seed_due_invoices, serve_provider, settle,
    simulated,
};

billing_tests!(three_instances_share_the_work_and_keep_every_invariant);

const INVOICES: usize = 2_000;

async fn three_instances_share_the_work_and_keep_every_invariant(backend: Backend) {
    let Some(test_db) = database(backend).await else {
        return;
    };
    seed_due_invoices(&test_db.db, INVOICES).await;
    let provider = simulated(hostile_mix(), 5, 3);
    let env = bill_env(&test_db, &serve_provider(provider.clone()));
    let instances: Vec<_> = (0..3)
        .map(|_| {
            let env = env.clone();
            tokio::spawn(async move { bill_to_completion(&env).await })
        })
        .collect();
    for instance in instances {
        instance.await.unwrap();
    }
    let census = settle(&test_db.db, &provider, &env).await;
    let ledger = provider.summary();
    assert_eq!(
        census.by_status[&InvoiceStatus::Paid] as u64,
        ledger.charges
    );
    assert_eq!(
        census.attempt_rows, ledger.calls,
        "one row per call when nobody crashes"
    );
}
