//! `antaeus bill` killed with SIGKILL at random moments, restarted, again and again: no invoice
//! is charged twice or lost, and every call is in the log.

use antaeus_data::Backend;
use antaeus_models::InvoiceStatus;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::billing_tests;
use crate::helpers::{
    bill_env, bill_process, database, hostile_mix, seed_due_invoices, serve_provider, settle,
    simulated,
};

billing_tests!(bill_processes_killed_at_random_keep_every_invariant);

const INVOICES: usize = 1_500;
const KILLS: usize = 6;

async fn bill_processes_killed_at_random_keep_every_invariant(backend: Backend) {
    let Some(test_db) = database(backend).await else {
        return;
    };
    seed_due_invoices(&test_db.db, INVOICES).await;
    let provider = simulated(hostile_mix(), 5, 7);
    let env = bill_env(&test_db, &serve_provider(provider.clone()));

    let mut rng = StdRng::seed_from_u64(backend as u64 + 11);
    for _ in 0..KILLS {
        let mut child = bill_process(&env).spawn().unwrap();
        let pause = rng.random_range(50..700);
        tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        child.kill().await.unwrap(); // SIGKILL: no cleanup, claims and open attempts left behind
        // Between kills, whatever state the claims are in, nobody was charged twice.
        let ledger = provider.summary();
        assert!(
            ledger.double_charged.is_empty(),
            "charged twice: {:?}",
            ledger.double_charged
        );
    }
    let census = settle(&test_db.db, &provider, &env).await;
    let ledger = provider.summary();
    assert_eq!(
        census.by_status[&InvoiceStatus::Paid] as u64,
        ledger.charges
    );
    // Killed processes may have stored an intent and died before calling: rows >= calls.
    assert!(census.attempt_rows >= ledger.calls, "{census:?} {ledger:?}");
    assert!(ledger.calls > 0);
}
