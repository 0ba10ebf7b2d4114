use serde_json::Value;

use crate::api_tests;
use crate::helpers::{TestApp, assert_problem, spawn_app_with};

api_tests!(
    an_invoices_attempts_are_listed_oldest_first,
    paid_unknown_and_malformed_invoices_cannot_be_retried,
    an_invoice_being_charged_cannot_be_retried,
);

async fn an_invoices_attempts_are_listed_oldest_first(app: TestApp) {
    let run = app.bill().await;
    let attempts: Vec<Value> = app
        .get("/rest/v1/invoices/1/attempts")
        .await
        .json()
        .await
        .unwrap();
    assert!(!attempts.is_empty());
    let deployment = app.db.db.deployment_id().await.unwrap();
    for (n, a) in attempts.iter().enumerate() {
        assert_eq!(a["attemptNumber"], n as u64 + 1);
        assert_eq!(a["runId"], run["id"]);
        assert!(
            a["idempotencyKey"]
                .as_str()
                .unwrap()
                .starts_with(&format!("antaeus-{deployment}-1-")),
            "{a}"
        );
        assert!(
            a["outcome"].is_string() && a["finishedAt"].is_string(),
            "{a}"
        );
    }
    let paid: Vec<Value> = app
        .get("/rest/v1/invoices/2/attempts")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        paid.is_empty(),
        "a PAID invoice of the original data was never charged here"
    );
    assert_problem(app.get("/rest/v1/invoices/999999/attempts").await, 404).await;
    assert_problem(app.get("/rest/v1/invoices/x/attempts").await, 400).await;
}

async fn paid_unknown_and_malformed_invoices_cannot_be_retried(app: TestApp) {
    // Invoice 2 is PAID in the original data.
    let problem = assert_problem(app.post("/rest/v1/invoices/2/retry", "", &[]).await, 409).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("paid"),
        "{problem}"
    );
    assert_problem(
        app.post("/rest/v1/invoices/424242/retry", "", &[]).await,
        404,
    )
    .await;
    assert_problem(app.post("/rest/v1/invoices/abc/retry", "", &[]).await, 400).await;
    // A due invoice: retrying is a no-op, answered with the invoice.
    let due = app.post("/rest/v1/invoices/1/retry", "", &[]).await;
    assert_eq!(due.status(), 200);
    let due: Value = due.json().await.unwrap();
    assert_eq!(
        (due["status"].as_str(), due["nextAttemptAt"].is_null()),
        (Some("PENDING"), true)
    );
}

async fn an_invoice_being_charged_cannot_be_retried(app: TestApp) {
    // Another instance is in the middle of charging invoice 1.
    assert_eq!(app.charge_elsewhere().await.get(), 1);
    let problem = assert_problem(app.post("/rest/v1/invoices/1/retry", "", &[]).await, 409).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("being charged"),
        "{problem}"
    );
}

/// A FAILED invoice is made due and charged again under a new key; retrying twice is the same
/// as once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_invoice_is_made_due_and_charged_again() {
    let app = spawn_app_with(
        antaeus_data::Backend::Sqlite,
        &[("ANTAEUS_SIMULATED_OUTCOMES", "customer_not_found=1")],
    )
    .await
    .unwrap();
    app.bill().await;
    let failed: Value = app.get("/rest/v1/invoices/1").await.json().await.unwrap();
    assert_eq!(
        (failed["status"].as_str(), failed["failureReason"].as_str()),
        (Some("FAILED"), Some("customer_not_found"))
    );

    let mut answers = Vec::new();
    for _ in 0..2 {
        let retried = app.post("/rest/v1/invoices/1/retry", "", &[]).await;
        assert_eq!(retried.status(), 200);
        let retried: Value = retried.json().await.unwrap();
        assert_eq!(retried["status"], "PENDING");
        // A retry due now: the hourly sweep (scope retries) charges it as well as a monthly run.
        assert!(retried["failureReason"].is_null() && retried["nextAttemptAt"].is_string());
        answers.push(retried);
    }
    assert_eq!(answers[0], answers[1], "retrying twice is retrying once");
    let again = app.bill().await;
    assert_eq!(
        again["counts"]["claimed"], 1,
        "only the retried invoice was due"
    );
    let attempts: Vec<Value> = app
        .get("/rest/v1/invoices/1/attempts")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(attempts.len(), 2);
    assert_ne!(
        attempts[0]["idempotencyKey"], attempts[1]["idempotencyKey"],
        "a new key after a definitive failure"
    );
}
