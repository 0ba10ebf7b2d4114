//! `POST /rest/v1/invoices` and `GET /rest/v1/invoices?externalId=`: the customer by id or
//! external id, in its currency, once per external id or idempotency key.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::api_tests;
use crate::helpers::{INVOICES, TestApp, assert_problem};

api_tests!(
    an_invoice_is_created_for_a_customer_named_by_id_or_external_id,
    an_invoice_is_due_now_by_default_and_a_later_one_waits_for_its_date,
    the_same_external_id_answers_the_invoice_or_a_conflict,
    unknown_customers_and_other_currencies_are_422_and_create_nothing,
    an_idempotency_key_replays_the_creation_and_refuses_another_request,
);

/// A EUR customer `acme-42`; its id.
pub async fn acme(app: &TestApp) -> i64 {
    app.create_customer(json!({"currency": "EUR", "externalId": "acme-42"}))
        .await["id"]
        .as_i64()
        .unwrap()
}

async fn an_invoice_is_created_for_a_customer_named_by_id_or_external_id(app: TestApp) {
    let customer = acme(&app).await;
    let body = json!({
        "customerId": customer,
        "amount": {"value": "123.45", "currency": "EUR"},
        "externalId": "inv-2026-12-acme-42",
        "dueAt": "2026-12-01T00:00:00Z",
        "description": "December subscription"
    });
    let response = app.post(INVOICES, &body.to_string(), &[]).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();
    let invoice: Value = serde_json::from_str(&text).unwrap();
    let id = invoice["id"].as_i64().unwrap();
    assert_eq!(location, format!("{INVOICES}/{id}"));
    assert_eq!(
        text,
        format!(
            r#"{{"id":{id},"customerId":{customer},"amount":{{"value":123.45,"currency":"EUR"}},"status":"PENDING","nextAttemptAt":null,"attempts":0,"failureReason":null,"externalId":"inv-2026-12-acme-42","dueAt":"2026-12-01T00:00:00Z","description":"December subscription","refundedAmount":{{"value":0.00,"currency":"EUR"}},"dispute":null,"extraCharges":0}}"#
        )
    );
    assert_eq!(app.get_json(&location).await, invoice);

    let by_external = app
        .create_invoice(json!({
            "customerExternalId": "acme-42",
            "amount": {"value": 99.99, "currency": "EUR"},
            "externalId": "inv-2"
        }))
        .await;
    assert_eq!(by_external["customerId"], customer);
    assert_eq!(app.invoices_of(customer).await.len(), 2);

    let found = app
        .get_json(&format!("{INVOICES}?externalId=inv-2026-12-acme-42"))
        .await;
    assert_eq!(found, json!([invoice]));
    let found = app
        .get_json(&format!(
            "{INVOICES}?externalId=inv-2&customerId={customer}&status=PENDING"
        ))
        .await;
    assert_eq!(found, json!([by_external]));
    assert_eq!(
        app.get_json(&format!("{INVOICES}?externalId=inv-404"))
            .await,
        json!([])
    );
    assert_problem(app.get(&format!("{INVOICES}?externalId=a%20b")).await, 400).await;
}

async fn an_invoice_is_due_now_by_default_and_a_later_one_waits_for_its_date(app: TestApp) {
    let customer = acme(&app).await;
    let before = Utc::now() - TimeDelta::seconds(1);
    let now = app
        .create_invoice(
            json!({"customerId": customer, "amount": {"value": "5.00", "currency": "EUR"}}),
        )
        .await;
    let due: DateTime<Utc> = now["dueAt"].as_str().unwrap().parse().unwrap();
    assert!(
        due >= before && due <= Utc::now() + TimeDelta::seconds(1),
        "{now}"
    );
    let later = app
        .create_invoice(json!({
            "customerId": customer,
            "amount": {"value": "6.00", "currency": "EUR"},
            "dueAt": "2999-01-01T00:00:00+02:00"
        }))
        .await;
    assert_eq!(later["dueAt"], "2998-12-31T22:00:00Z", "kept in UTC");

    let run = app.bill().await;
    assert_eq!(run["status"], "COMPLETED");
    let charged = app.get_json(&format!("{INVOICES}/{}", now["id"])).await;
    assert!(charged["attempts"].as_u64().unwrap() >= 1, "{charged}");
    let waiting = app.get_json(&format!("{INVOICES}/{}", later["id"])).await;
    assert_eq!(
        (&waiting["status"], &waiting["attempts"]),
        (&json!("PENDING"), &json!(0)),
        "not due before its date: {waiting}"
    );
}

async fn the_same_external_id_answers_the_invoice_or_a_conflict(app: TestApp) {
    let customer = acme(&app).await;
    let body = json!({
        "customerId": customer,
        "amount": {"value": "50.00", "currency": "EUR"},
        "externalId": "inv-1",
        "dueAt": "2026-12-01T00:00:00.123456789Z",
        "description": "December"
    });
    let first = app.create_invoice(body.clone()).await;
    assert_eq!(
        first["dueAt"], "2026-12-01T00:00:00.123456Z",
        "to the microsecond"
    );
    let again = app.post(INVOICES, &body.to_string(), &[]).await;
    assert_eq!(again.status(), 200, "the same fields: found");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    // Named by external id, the amount as a number: still the same invoice.
    let same = json!({
        "customerExternalId": "acme-42",
        "amount": {"value": 50, "currency": "EUR"},
        "externalId": "inv-1",
        "dueAt": "2026-12-01T00:00:00.123456Z",
        "description": "December"
    });
    assert_eq!(
        app.post(INVOICES, &same.to_string(), &[]).await.status(),
        200
    );

    let mut other = body.clone();
    other["amount"]["value"] = json!("60.00");
    other["description"] = Value::Null;
    let problem = assert_problem(app.post(INVOICES, &other.to_string(), &[]).await, 409).await;
    assert_eq!(problem["type"], "urn:antaeus:problem:external_id_conflict");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("inv-1") && detail.contains("amount, description"),
        "{problem}"
    );
    assert_eq!(app.invoices_of(customer).await, vec![first]);

    // Unique per customer: another customer may use the same external id.
    let other_customer = app.create_customer(json!({"currency": "EUR"})).await;
    let mut theirs = body.clone();
    theirs["customerId"] = other_customer["id"].clone();
    let response = app.post(INVOICES, &theirs.to_string(), &[]).await;
    assert_eq!(response.status(), 201);
}

async fn unknown_customers_and_other_currencies_are_422_and_create_nothing(app: TestApp) {
    let customer = acme(&app).await;
    for body in [
        json!({"customerId": 999_999, "amount": {"value": "1.00", "currency": "EUR"}}),
        json!({"customerExternalId": "nobody", "amount": {"value": "1.00", "currency": "EUR"}}),
    ] {
        let problem = assert_problem(app.post(INVOICES, &body.to_string(), &[]).await, 422).await;
        assert_eq!(problem["type"], "urn:antaeus:problem:unknown_customer");
        assert_eq!(problem["title"], "Unknown customer");
    }
    let usd = json!({"customerId": customer, "amount": {"value": "1.00", "currency": "USD"}});
    let problem = assert_problem(app.post(INVOICES, &usd.to_string(), &[]).await, 422).await;
    assert_eq!(problem["type"], "urn:antaeus:problem:currency_mismatch");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("USD") && detail.contains("EUR"),
        "{problem}"
    );
    // The original customers too: customer 1's currency is not every currency.
    let theirs: Value = app.get_json("/rest/v1/customers/1").await;
    let other = ["EUR", "USD"]
        .into_iter()
        .find(|c| theirs["currency"] != *c)
        .unwrap();
    let body = json!({"customerId": 1, "amount": {"value": "1.00", "currency": other}});
    assert_problem(app.post(INVOICES, &body.to_string(), &[]).await, 422).await;
    assert!(app.invoices_of(customer).await.is_empty());
    assert_eq!(app.invoices_of(1).await.len(), 10);
}

async fn an_idempotency_key_replays_the_creation_and_refuses_another_request(app: TestApp) {
    let customer = acme(&app).await;
    let body = json!({"customerId": customer, "amount": {"value": "12.00", "currency": "EUR"}})
        .to_string();
    let app = Arc::new(app);
    let mut racers = Vec::new();
    for _ in 0..6 {
        let (app, body) = (app.clone(), body.clone());
        racers.push(tokio::spawn(async move {
            let response = app
                .post(INVOICES, &body, &[("Idempotency-Key", "invoice-key-1")])
                .await;
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap()["id"].clone(),
            )
        }));
    }
    let mut statuses = Vec::new();
    let mut ids = HashSet::new();
    for racer in racers {
        let (status, id) = racer.await.unwrap();
        statuses.push(status);
        ids.insert(id.to_string());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 201], "one created");
    assert_eq!(ids.len(), 1, "every answer names it");

    let other = json!({"customerId": customer, "amount": {"value": "13.00", "currency": "EUR"}})
        .to_string();
    let problem = assert_problem(
        app.post(INVOICES, &other, &[("Idempotency-Key", "invoice-key-1")])
            .await,
        422,
    )
    .await;
    assert_eq!(
        problem["type"],
        "urn:antaeus:problem:idempotency_key_reused"
    );
    // A refused request leaves its key free: a corrected one may use it.
    let usd = json!({"customerId": customer, "amount": {"value": "13.00", "currency": "USD"}})
        .to_string();
    assert_problem(
        app.post(INVOICES, &usd, &[("Idempotency-Key", "invoice-key-2")])
            .await,
        422,
    )
    .await;
    let fixed = app
        .post(INVOICES, &other, &[("Idempotency-Key", "invoice-key-2")])
        .await;
    assert_eq!(fixed.status(), 201);
    assert_eq!(app.invoices_of(customer).await.len(), 2);
}
