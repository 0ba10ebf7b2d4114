//! `antaeus bill` with the provider's URL mistyped (a closed port): not one call is answered,
//! so the run is ABORTED with a reason naming the provider and the command exits 1, for a cron
//! job to see; and nothing is lost (every invoice stays due, its key kept).

use antaeus_core::store::AttemptStore;
use antaeus_models::InvoiceStatus;

use crate::billing_tests;
use crate::helpers::{all_invoices, bill_env, bill_process, database, seed_due_invoices};

billing_tests!(antaeus_bill_against_a_closed_port_aborts_and_exits_1_naming_the_provider);

async fn antaeus_bill_against_a_closed_port_aborts_and_exits_1_naming_the_provider(
    backend: antaeus_data::Backend,
) {
    let Some(db) = database(backend).await else {
        return;
    };
    seed_due_invoices(&db.db, 15).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let output = bill_process(&bill_env(&db, &url)).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(
        stdout.contains("ABORTED") && stderr.contains("never answered") && stderr.contains(&url),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    for invoice in all_invoices(&db.db).await {
        assert_eq!(invoice.status, InvoiceStatus::Pending, "{invoice:?}");
        let log = db.db.list_attempts(invoice.id).await.unwrap();
        assert_eq!(log.len() as u32, invoice.attempts, "every call recorded");
    }
}
