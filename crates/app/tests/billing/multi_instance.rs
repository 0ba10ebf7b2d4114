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
    // One row per call when nobody crashes. An instance that stalls past its lease on a
    // loaded machine has its claims taken over: the calls it had not made yet stay recorded
    // as abandoned (the takeover's guess), and no call is ever left without its row.
    assert!(
        census.attempt_rows >= ledger.calls
            && census.attempt_rows - census.abandoned_rows <= ledger.calls,
        "rows {}, of which abandoned {}, calls {}",
        census.attempt_rows,
        census.abandoned_rows,
        ledger.calls
    );
}
