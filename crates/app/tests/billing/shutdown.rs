//! `antaeus bill` stopped with SIGTERM: a graceful shutdown.

use antaeus_data::Backend;
use antaeus_models::InvoiceStatus;

use crate::billing_tests;
use crate::helpers::{
    all_invoices, bill_env, bill_process, database, hostile_mix, seed_due_invoices, serve_provider,
    settle, simulated,
};

billing_tests!(sigterm_lets_charges_in_flight_finish_and_releases_the_rest);

/// A graceful stop: claiming stops, calls in flight finish and are recorded, claims not yet
/// sent are released; nothing is left claimed and nothing is charged twice.
async fn sigterm_lets_charges_in_flight_finish_and_releases_the_rest(backend: Backend) {
    let Some(test_db) = database(backend).await else {
        return;
    };
    seed_due_invoices(&test_db.db, 600).await;
    let provider = simulated(hostile_mix(), 150, 13);
    let mut env = bill_env(&test_db, &serve_provider(provider.clone()));
    env.push(("ANTAEUS_SHUTDOWN_GRACE_S", "5".into()));
    let child = bill_process(&env).spawn().unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let pid = child.id().unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let output = tokio::time::timeout(std::time::Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("stopped within the grace period")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "an interrupted run is not a success: {stdout}"
    );
    assert!(stdout.contains("ABORTED"), "{stdout}");
    let invoices = all_invoices(&test_db.db).await;
    assert!(
        invoices.iter().all(|i| i.status != InvoiceStatus::Charging),
        "nothing left claimed"
    );
    let untouched = invoices.iter().filter(|i| i.attempts == 0).count();
    assert!(
        untouched > 0,
        "the run was stopped before it reached every invoice"
    );
    assert!(provider.summary().double_charged.is_empty());
    // What the stopped run did not charge, the next run does.
    let census = settle(&test_db.db, &provider, &env).await;
    assert_eq!(
        census.by_status[&InvoiceStatus::Paid] as u64,
        provider.summary().charges
    );
}
