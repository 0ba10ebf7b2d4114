//! Runs charge what the seed means: the monthly run (`all`) everything due, the hourly sweep
//! (`retries`) only scheduled retries. An invoice created after a monthly run waits for the
//! next one; a fresh instance charges nothing until the first of the month or a trigger.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use antaeus_app::settings::Settings;
use antaeus_app::startup::Application;
use antaeus_core::ManualClock;
use antaeus_core::store::{AttemptStore, InvoiceStore};
use antaeus_data::testing::TestDatabase;
use antaeus_models::{Currency, InvoiceStatus};
use chrono::DateTime;
use serde_json::Value;

use crate::api_tests;
use crate::billing_runs::RUNS;
use crate::helpers::{API_TOKEN, TestApp};

api_tests!(
    an_invoice_created_after_the_monthly_run_is_left_by_the_sweep_and_charged_by_the_next_monthly_run,
    a_key_names_one_scope_and_the_other_scope_under_it_is_refused,
);

async fn start(app: &TestApp, query: &str, key: &str) -> Value {
    let started = app
        .post(&format!("{RUNS}{query}"), "", &[("Idempotency-Key", key)])
        .await;
    assert_eq!(started.status(), 202, "{query} {key}");
    let run: Value = started.json().await.unwrap();
    app.wait_for_run(run["id"].as_i64().unwrap()).await
}

async fn an_invoice_created_after_the_monthly_run_is_left_by_the_sweep_and_charged_by_the_next_monthly_run(
    app: TestApp,
) {
    let december = start(&app, "", "monthly-2026-12").await;
    assert_eq!(december["scope"], "all");
    assert_eq!(december["status"], "COMPLETED");
    assert_eq!(december["counts"]["claimed"], 100, "the original 100 due");

    let (_, late) = app
        .add_invoice(Currency::EUR, 4_200, InvoiceStatus::Pending)
        .await;
    let sweep = start(&app, "?scope=retries", "sweep-2026-12-15T10").await;
    assert_eq!(sweep["scope"], "retries");
    assert_eq!(sweep["status"], "COMPLETED");
    let after_sweep = app.db.db.fetch_invoice(late.id).await.unwrap().unwrap();
    assert_eq!(after_sweep.status, InvoiceStatus::Pending);
    assert_eq!(
        after_sweep.attempts, 0,
        "the sweep never touches a new invoice"
    );
    assert!(app.db.db.list_attempts(late.id).await.unwrap().is_empty());

    let january = start(&app, "", "monthly-2027-01").await;
    assert_eq!(january["status"], "COMPLETED");
    let charged = app.db.db.fetch_invoice(late.id).await.unwrap().unwrap();
    assert!(
        charged.attempts >= 1,
        "the next monthly run charged it: {charged:?}"
    );
}

async fn a_key_names_one_scope_and_the_other_scope_under_it_is_refused(app: TestApp) {
    let sweep = start(&app, "?scope=retries", "sweep-1").await;
    assert_eq!(sweep["scope"], "retries");
    let same = app
        .post(
            RUNS,
            r#"{"scope":"retries"}"#,
            &[("Idempotency-Key", "sweep-1")],
        )
        .await;
    assert_eq!(same.status(), 200, "the same request in the body");
    let other = app.post(RUNS, "", &[("Idempotency-Key", "sweep-1")]).await;
    let problem = crate::helpers::assert_problem(other, 422).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("sweep-1"),
        "{problem}"
    );
}

/// `make run` on a fresh database mid-month: the scheduler's catch-up fires the last hourly
/// sweep, which finds no scheduled retry; the 100 original due invoices wait for the 1st.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_instance_charges_nothing_until_the_first_of_the_month_or_a_trigger() {
    let db = TestDatabase::sqlite().await;
    let vars: HashMap<&str, String> = HashMap::from([
        ("ANTAEUS_DATABASE_URL", db.url_string()),
        ("ANTAEUS_HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("ANTAEUS_SCHEDULER", "on".to_owned()),
        ("ANTAEUS_API_TOKEN", API_TOKEN.to_owned()),
        ("ANTAEUS_SIMULATED_LATENCY_MS", "1".to_owned()),
    ]);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let mid_month = DateTime::parse_from_rfc3339("2026-11-15T10:30:00Z")
        .unwrap()
        .to_utc();
    let app = Application::build_with_clock(&settings, Arc::new(ManualClock::new(mid_month)))
        .await
        .unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut runs: Vec<Value> = Vec::new();
    for _ in 0..100 {
        runs = client
            .get(format!("{address}{RUNS}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if runs.iter().any(|r| r["status"] != "RUNNING") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        runs.len(),
        1,
        "only the catch-up of the hourly sweep: {runs:?}"
    );
    assert_eq!(
        runs[0]["idempotencyKey"],
        "scheduler-retry-2026-11-15T10:00:00Z"
    );
    assert_eq!(runs[0]["scope"], "retries");
    assert_eq!(runs[0]["counts"]["claimed"], 0);
    let invoices = db
        .db
        .list_invoices(Default::default(), Default::default())
        .await
        .unwrap();
    assert!(
        invoices.iter().all(|i| i.attempts == 0),
        "nothing was charged"
    );
}
