//! `POST /rest/v1/invoices/{id}/void`: PENDING or FAILED → VOID, never charged; PAID and
//! CHARGING refused; a void racing a billing run is applied before the claim or refused.

use std::sync::Arc;

use antaeus_data::Backend;
use antaeus_models::{Currency, InvoiceStatus};
use serde_json::{Value, json};

use crate::api_tests;
use crate::billing_runs::RUNS;
use crate::helpers::{INVOICES, TestApp, assert_problem, spawn_app_with};

api_tests!(
    pending_invoices_are_voided_once_and_never_charged,
    paid_charging_unknown_and_malformed_invoices_are_not_voided,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_invoice_is_voided_on_sqlite() {
    failed_invoice_is_voided(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_invoice_is_voided_on_postgres() {
    failed_invoice_is_voided(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voiding_an_invoice_whose_last_answer_was_lost_is_refused_on_sqlite() {
    void_after_a_lost_answer(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn voiding_an_invoice_whose_last_answer_was_lost_is_refused_on_postgres() {
    void_after_a_lost_answer(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_void_racing_a_billing_run_is_applied_before_the_claim_or_refused_on_sqlite() {
    void_racing_a_billing_run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_void_racing_a_billing_run_is_applied_before_the_claim_or_refused_on_postgres() {
    void_racing_a_billing_run(Backend::Postgres).await;
}

fn void_path(id: &Value) -> String {
    format!("{INVOICES}/{id}/void")
}

async fn pending_invoices_are_voided_once_and_never_charged(app: TestApp) {
    let (_, pending) = app
        .add_invoice(Currency::EUR, 2_500, InvoiceStatus::Pending)
        .await;
    let (_, scheduled) = app
        .add_invoice(Currency::DKK, 900, InvoiceStatus::Pending)
        .await;
    let mut voided = Vec::new();
    for id in [pending.id.get(), scheduled.id.get()] {
        let response = app.post(&void_path(&json!(id)), "", &[]).await;
        assert_eq!(response.status(), 200);
        let invoice: Value = response.json().await.unwrap();
        assert_eq!(
            (&invoice["status"], &invoice["failureReason"]),
            (&json!("VOID"), &Value::Null)
        );
        let again = app.post(&void_path(&json!(id)), "", &[]).await;
        assert_eq!(
            again.status(),
            200,
            "voiding a VOID invoice changes nothing"
        );
        assert_eq!(again.json::<Value>().await.unwrap(), invoice);
        voided.push(invoice);
    }
    let listed = app.get_json(&format!("{INVOICES}?status=VOID")).await;
    assert_eq!(listed, Value::from(voided.clone()), "filterable");

    let run = app.bill().await;
    assert_eq!(
        run["counts"]["claimed"], 100,
        "only the original due invoices"
    );
    let after = app.get_json(&format!("{INVOICES}/{}", pending.id)).await;
    assert_eq!(
        (&after["status"], &after["attempts"]),
        (&json!("VOID"), &json!(0))
    );
    let attempts = app
        .get_json(&format!("{INVOICES}/{}/attempts", pending.id))
        .await;
    assert_eq!(attempts, json!([]), "never charged");

    let problem = assert_problem(
        app.post(&format!("{INVOICES}/{}/retry", pending.id), "", &[])
            .await,
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:antaeus:problem:invoice_void");

    let events = app.get_json("/rest/v1/events").await;
    let voided_events: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "invoice.voided")
        .collect();
    assert_eq!(
        voided_events.len(),
        2,
        "one event per invoice, not per request"
    );
    assert_eq!(voided_events[0]["id"], format!("evt_{}_voided", pending.id));
}

async fn paid_charging_unknown_and_malformed_invoices_are_not_voided(app: TestApp) {
    // Invoice 2 is PAID in the original data.
    let problem = assert_problem(app.post(&void_path(&json!(2)), "", &[]).await, 409).await;
    assert_eq!(problem["type"], "urn:antaeus:problem:invoice_paid");
    assert!(
        problem["detail"].as_str().unwrap().contains("paid"),
        "{problem}"
    );

    // Another instance is charging invoice 1.
    assert_eq!(app.charge_elsewhere().await.get(), 1);
    let problem = assert_problem(app.post(&void_path(&json!(1)), "", &[]).await, 409).await;
    assert_eq!(problem["type"], "urn:antaeus:problem:invoice_charging");
    assert_eq!(
        app.get_json(&format!("{INVOICES}/1")).await["status"],
        "CHARGING"
    );

    assert_problem(app.post(&void_path(&json!(424_242)), "", &[]).await, 404).await;
    assert_problem(
        app.post(&format!("{INVOICES}/abc/void"), "", &[]).await,
        400,
    )
    .await;
    let unauthenticated = app
        .client
        .post(format!("{}{}", app.address, void_path(&json!(11))))
        .send()
        .await
        .unwrap();
    assert_problem(unauthenticated, 401).await;
    assert_eq!(
        app.get_json(&format!("{INVOICES}/11")).await["status"],
        "PENDING"
    );
}

/// A FAILED invoice (the provider does not know the customer) is voided: it leaves the
/// failures, and an operator's retry cannot bring it back.
async fn failed_invoice_is_voided(backend: Backend) {
    let outcomes = [("ANTAEUS_SIMULATED_OUTCOMES", "customer_not_found=1")];
    let Some(app) = spawn_app_with(backend, &outcomes).await else {
        return;
    };
    app.bill().await;
    let failed = app.get_json(&format!("{INVOICES}/1")).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    let response = app.post(&void_path(&json!(1)), "", &[]).await;
    assert_eq!(response.status(), 200);
    let voided: Value = response.json().await.unwrap();
    assert_eq!(
        (
            &voided["status"],
            &voided["failureReason"],
            &voided["attempts"]
        ),
        (&json!("VOID"), &Value::Null, &failed["attempts"])
    );
    let failures = app.get_json(&format!("{INVOICES}?status=FAILED")).await;
    assert_eq!(failures.as_array().unwrap().len(), 99);
    let problem =
        assert_problem(app.post(&format!("{INVOICES}/1/retry"), "", &[]).await, 409).await;
    assert_eq!(problem["type"], "urn:antaeus:problem:invoice_void");
}

/// Many PENDING invoices, a run started while a void is sent for each: afterwards every one is
/// VOID and never charged, or was claimed and charged (its void refused): never both, never
/// neither. The provider charges every call, so a charged invoice is PAID and cannot be voided
/// afterwards either.
async fn void_racing_a_billing_run(backend: Backend) {
    let Some(app) = spawn_app_with(backend, &[("ANTAEUS_SIMULATED_OUTCOMES", "charged=1")]).await
    else {
        return;
    };
    let customer = app.create_customer(json!({"currency": "USD"})).await["id"].clone();
    let items: Vec<Value> = (0..200)
        .map(|n| json!({"customerId": customer, "amount": {"value": format!("{}.00", n + 1), "currency": "USD"}}))
        .collect();
    let created = app
        .post(
            "/rest/v1/invoices/batch",
            &Value::from(items).to_string(),
            &[],
        )
        .await
        .json::<Vec<Value>>()
        .await
        .unwrap();
    let ids: Vec<Value> = created.iter().map(|a| a["invoice"]["id"].clone()).collect();
    assert_eq!(ids.len(), 200);

    let app = Arc::new(app);
    let mut voids = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let (app, id) = (app.clone(), id.clone());
        voids.push(tokio::spawn(async move {
            // Spread over the run's claims rather than all before the first.
            tokio::time::sleep(std::time::Duration::from_millis((n as u64 * 37) % 120)).await;
            app.post(&void_path(&id), "", &[]).await.status().as_u16()
        }));
    }
    let started = app.post(RUNS, "", &[("Idempotency-Key", "race-run")]).await;
    assert_eq!(started.status(), 202);
    let run: Value = started.json().await.unwrap();
    let mut answers = Vec::new();
    for void in voids {
        answers.push(void.await.unwrap());
    }
    let run = app.wait_for_run(run["id"].as_i64().unwrap()).await;
    assert_eq!(run["status"], "COMPLETED", "{run}");

    let mut voided = 0;
    for (id, answer) in ids.iter().zip(&answers) {
        let invoice = app.get_json(&format!("{INVOICES}/{id}")).await;
        let attempts = app.get_json(&format!("{INVOICES}/{id}/attempts")).await;
        let charged = !attempts.as_array().unwrap().is_empty();
        match answer {
            200 => {
                voided += 1;
                assert_eq!(invoice["status"], "VOID", "{invoice}");
                assert!(!charged, "voided and charged: {invoice} {attempts}");
            }
            409 => {
                assert_eq!(invoice["status"], "PAID", "{invoice}");
                assert!(charged, "refused but never charged: {invoice}");
            }
            other => panic!("void of {id} answered {other}"),
        }
    }
    eprintln!("{backend:?}: {voided} of 200 voided before their claim");
    assert_eq!(
        run["counts"]["claimed"],
        100 + 200 - voided,
        "the run claimed every invoice that was not voided, and no voided one"
    );
}

/// The provider charged, but its answer was lost: the invoice may be paid, so it is not voided
/// (a VOID invoice must never have been charged); once a resend tells, it is PAID.
async fn void_after_a_lost_answer(backend: Backend) {
    let lost = [("ANTAEUS_SIMULATED_OUTCOMES", "network_error_after=1")];
    let Some(app) = spawn_app_with(backend, &lost).await else {
        return;
    };
    app.bill().await;
    let unknown = app.get_json(&format!("{INVOICES}/1")).await;
    assert_eq!(unknown["status"], "PENDING", "{unknown}");
    let problem = assert_problem(app.post(&void_path(&json!(1)), "", &[]).await, 409).await;
    assert_eq!(
        problem["type"], "urn:antaeus:problem:outcome_unknown",
        "{problem}"
    );
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("no known outcome") && detail.contains("antaeus-"),
        "names the key: {detail}"
    );
    assert_eq!(
        app.get_json(&format!("{INVOICES}/1")).await["status"],
        "PENDING"
    );
    let events: Vec<Value> = app
        .get_json("/rest/v1/events")
        .await
        .as_array()
        .unwrap()
        .clone();
    assert!(
        events.iter().all(|e| e["type"] != "invoice.voided"),
        "nothing announced: {events:?}"
    );
}
