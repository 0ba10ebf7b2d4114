//! `POST` and `GET /rest/v1/invoices/{id}/refunds`: a paid invoice refunded through the
//! provider, never more than was paid, a request repeated under its key refunded once.

use antaeus_data::Backend;
use serde_json::{Value, json};

use crate::helpers::{INVOICES, TestApp, assert_problem, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_invoice_is_refunded_once_per_key_and_never_beyond_what_was_paid_on_sqlite() {
    refunds_of_a_paid_invoice(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_invoice_is_refunded_once_per_key_and_never_beyond_what_was_paid_on_postgres() {
    refunds_of_a_paid_invoice(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_unknown_and_malformed_refunds_are_refused_and_send_nothing_on_sqlite() {
    refunds_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_unknown_and_malformed_refunds_are_refused_and_send_nothing_on_postgres() {
    refunds_refused(Backend::Postgres).await;
}

fn refunds(id: i64) -> String {
    format!("{INVOICES}/{id}/refunds")
}

/// The demo data's invoice 1 (a PENDING one), charged: it is PAID by a payment of the provider.
async fn paid_invoice(backend: Backend) -> Option<(TestApp, Value)> {
    let app = spawn_app_with(backend, &[("ANTAEUS_SIMULATED_OUTCOMES", "charged=1")]).await?;
    app.bill().await;
    let invoice = app.get_json(&format!("{INVOICES}/1")).await;
    assert_eq!(invoice["status"], "PAID", "{invoice}");
    Some((app, invoice))
}

async fn refunds_of_a_paid_invoice(backend: Backend) {
    let Some((app, invoice)) = paid_invoice(backend).await else {
        return;
    };
    let amount = &invoice["amount"];
    let currency = amount["currency"].as_str().unwrap().to_owned();
    let key = [("Idempotency-Key", "refund-1")];
    let body = r#"{"amount":"5.00","reason":"requested_by_customer"}"#;
    let response = app.post(&refunds(1), body, &key).await;
    assert_eq!(response.status(), 201);
    let first: Value = response.json().await.unwrap();
    assert_eq!(first["status"], "succeeded", "{first}");
    assert_eq!(
        first["amount"],
        json!({"value": 5.00, "currency": currency})
    );
    assert_eq!(first["reason"], "requested_by_customer");
    assert_eq!(first["origin"], "api");
    assert!(
        first["providerRef"]
            .as_str()
            .is_some_and(|r| r.starts_with("simr_"))
    );
    let after = app.get_json(&format!("{INVOICES}/1")).await;
    assert_eq!(after["refundedAmount"]["value"], json!(5.00), "{after}");
    assert_eq!(after["status"], "PAID", "a refunded invoice stays paid");

    // Repeated under its key: the same refund, nothing sent again.
    let again = app.post(&refunds(1), body, &key).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);
    // The key with another request: refused.
    let other = app.post(&refunds(1), r#"{"amount":"6.00"}"#, &key).await;
    let problem = assert_problem(other, 422).await;
    assert_eq!(
        problem["type"],
        "urn:antaeus:problem:idempotency_key_reused"
    );

    // More than is left: refused, nothing sent.
    let too_much = app
        .post(&refunds(1), r#"{"amount":"100000.00"}"#, &[])
        .await;
    let problem = assert_problem(too_much, 409).await;
    assert_eq!(problem["type"], "urn:antaeus:problem:refund_refused");
    assert!(
        problem["detail"].as_str().unwrap().contains("left"),
        "{problem}"
    );

    // Without an amount: what is left.
    let rest = app.post(&refunds(1), "", &[]).await;
    assert_eq!(rest.status(), 201);
    let rest: Value = rest.json().await.unwrap();
    let paid: f64 = amount["value"].as_f64().unwrap();
    let refunded_now: f64 = rest["amount"]["value"].as_f64().unwrap();
    assert!((paid - 5.0 - refunded_now).abs() < 0.001, "{rest}");
    let fully = app.get_json(&format!("{INVOICES}/1")).await;
    assert_eq!(fully["refundedAmount"], *amount, "{fully}");
    let nothing_left = app.post(&refunds(1), "{}", &[]).await;
    assert_problem(nothing_left, 409).await;

    let listed = app.get_json(&refunds(1)).await;
    let ids: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&first["id"], &rest["id"]]);
    let events = app.get_json("/rest/v1/events").await;
    let refunded: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "invoice.refunded")
        .collect();
    assert_eq!(refunded.len(), 2, "one event per refund: {refunded:?}");
    assert_eq!(
        refunded[0]["payload"]["data"]["invoice"]["refund"]["id"],
        first["id"]
    );
}

async fn refunds_refused(backend: Backend) {
    let Some((app, _)) = paid_invoice(backend).await else {
        return;
    };
    let customer = app.create_customer(json!({"currency": "EUR"})).await;
    let unpaid = app
        .create_invoice(
            json!({"customerId": customer["id"], "amount": {"value": "10.00", "currency": "EUR"}}),
        )
        .await;
    let problem = assert_problem(
        app.post(&refunds(unpaid["id"].as_i64().unwrap()), "{}", &[])
            .await,
        409,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("PENDING"),
        "{problem}"
    );
    // The demo data's PAID invoices were never charged through the provider.
    let seeded = assert_problem(app.post(&refunds(2), "{}", &[]).await, 409).await;
    assert!(
        seeded["detail"].as_str().unwrap().contains("no payment"),
        "{seeded}"
    );
    assert_problem(app.post(&refunds(424_242), "{}", &[]).await, 404).await;
    for body in [
        r#"{"amount":"-1"}"#,
        r#"{"amount":"0"}"#,
        r#"{"amount":"1e2"}"#,
        r#"{"amount":"5.00","note":"typo"}"#,
        "not json",
    ] {
        assert_problem(app.post(&refunds(1), body, &[]).await, 400).await;
    }
    // More decimals than the currency has.
    assert_problem(
        app.post(&refunds(1), r#"{"amount":"1.001"}"#, &[]).await,
        422,
    )
    .await;
    let unauthenticated = app
        .client
        .post(format!("{}{}", app.address, refunds(1)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_problem(unauthenticated, 401).await;
    let listed = app.get_json(&refunds(1)).await;
    assert_eq!(listed, json!([]), "nothing was refunded");
}
