//! `POST /rest/v1/invoices/batch`: up to 1,000 invoices, one answer per item in its place; a
//! bad item never fails the others, and a batch sent again creates nothing new.

use serde_json::{Value, json};

use crate::api_tests;
use crate::helpers::{INVOICES, TestApp, assert_problem};

api_tests!(
    a_batch_answers_each_item_in_its_place,
    a_full_batch_sent_again_creates_nothing_new,
    oversized_and_malformed_batches_are_refused_whole,
);

const BATCH: &str = "/rest/v1/invoices/batch";

async fn batch(app: &TestApp, body: &str) -> Vec<Value> {
    let response = app.post(BATCH, body, &[]).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn a_batch_answers_each_item_in_its_place(app: TestApp) {
    let acme = app
        .create_customer(json!({"currency": "EUR", "externalId": "acme-42"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let eur = |value: &str| json!({"value": value, "currency": "EUR"});
    let items = json!([
        {"customerId": acme, "amount": eur("10.00"), "externalId": "a"},
        {"customerExternalId": "acme-42", "amount": {"value": 20.5, "currency": "EUR"}, "externalId": "b"},
        {"customerId": acme, "amount": eur("10.00"), "externalId": "a"},
        {"customerId": acme, "amount": eur("11.00"), "externalId": "a"},
        {"customerId": acme, "amount": {"value": "1.00", "currency": "USD"}},
        {"customerId": 999_999, "amount": eur("1.00")},
        {"customerExternalId": "nobody", "amount": eur("1.00")},
        {"customerId": acme, "amount": eur("1.234")},
        "not an invoice",
        {"customerId": acme, "amount": eur("1.00"), "colour": "red"},
        {"customerId": acme, "amount": eur("30.00")},
    ]);
    let answers = batch(&app, &items.to_string()).await;
    let statuses: Vec<u64> = answers
        .iter()
        .map(|a| a["status"].as_u64().unwrap())
        .collect();
    assert_eq!(
        statuses,
        [201, 201, 200, 409, 422, 422, 422, 400, 400, 400, 201]
    );
    let a = &answers[0]["invoice"];
    assert_eq!(
        (&a["externalId"], &a["amount"]["value"], &a["status"]),
        (&json!("a"), &json!(10.0), &json!("PENDING"))
    );
    assert_eq!(answers[1]["invoice"]["customerId"], acme);
    assert_eq!(answers[2]["invoice"], *a, "the batch's own earlier item");
    let problem_type = |i: usize| answers[i]["problem"]["type"].as_str().unwrap().to_owned();
    assert_eq!(problem_type(3), "urn:antaeus:problem:external_id_conflict");
    assert_eq!(problem_type(4), "urn:antaeus:problem:currency_mismatch");
    assert_eq!(problem_type(5), "urn:antaeus:problem:unknown_customer");
    assert_eq!(problem_type(6), "urn:antaeus:problem:unknown_customer");
    for (i, needle) in [
        (7, "item 7: amount.value"),
        (8, "item 8 is not a valid invoice"),
        (9, "unknown field `colour`"),
    ] {
        let problem = &answers[i]["problem"];
        assert_eq!(problem["status"], 400);
        assert!(
            problem["detail"].as_str().unwrap().contains(needle),
            "{problem}"
        );
    }
    for answer in &answers {
        let keys: Vec<&str> = answer
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert!(
            keys == ["invoice", "status"] || keys == ["problem", "status"],
            "an invoice or a problem: {answer}"
        );
    }
    assert_eq!(
        app.invoices_of(acme).await.len(),
        3,
        "a, b and the last one"
    );
    let stored = app
        .get_json(&format!("{INVOICES}/{}", answers[10]["invoice"]["id"]))
        .await;
    assert_eq!(stored, answers[10]["invoice"]);
}

async fn a_full_batch_sent_again_creates_nothing_new(app: TestApp) {
    let customer = app.create_customer(json!({"currency": "SEK"})).await["id"]
        .as_i64()
        .unwrap();
    let items: Vec<Value> = (0..1_000)
        .map(|n| {
            json!({
                "customerId": customer,
                "amount": {"value": format!("{}.{:02}", 1 + n / 100, n % 100), "currency": "SEK"},
                "externalId": format!("inv-{n}"),
                "dueAt": "2026-12-01T00:00:00Z",
                "description": format!("Seat {n} of 1000")
            })
        })
        .collect();
    let body = Value::from(items).to_string();
    let first = batch(&app, &body).await;
    assert_eq!(first.len(), 1_000);
    assert!(first.iter().all(|a| a["status"] == 201));
    let again = batch(&app, &body).await;
    assert!(again.iter().all(|a| a["status"] == 200), "found, not made");
    let ids = |answers: &[Value]| -> Vec<Value> {
        answers.iter().map(|a| a["invoice"]["id"].clone()).collect()
    };
    assert_eq!(ids(&first), ids(&again), "the same invoices, in order");
    assert_eq!(app.invoices_of(customer).await.len(), 1_000);
    assert_eq!(first[999]["invoice"]["amount"]["value"], json!(10.99));
    assert_eq!(
        batch(&app, "[]").await,
        Vec::<Value>::new(),
        "an empty batch"
    );
}

async fn oversized_and_malformed_batches_are_refused_whole(app: TestApp) {
    let customer = app.create_customer(json!({"currency": "GBP"})).await["id"]
        .as_i64()
        .unwrap();
    let item = json!({"customerId": customer, "amount": {"value": "1.00", "currency": "GBP"}});
    let too_many = Value::from(vec![item.clone(); 1_001]).to_string();
    let problem = assert_problem(app.post(BATCH, &too_many, &[]).await, 413).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("at most 1000"),
        "{problem}"
    );
    let huge = format!("[{}]", " ".repeat(5 * 1024 * 1024));
    assert_problem(app.post(BATCH, &huge, &[]).await, 413).await;
    for (body, needle) in [
        ("", "not valid JSON"),
        ("[", "not valid JSON"),
        ("{}", "array of invoices"),
        (&item.to_string(), "array of invoices"),
        ("[1,", "not valid JSON"),
    ] {
        let problem = assert_problem(app.post(BATCH, body, &[]).await, 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(needle),
            "{body}: {problem}"
        );
    }
    let unauthenticated = app
        .client
        .post(format!("{}{BATCH}", app.address))
        .body(format!("[{item}]"))
        .send()
        .await
        .unwrap();
    assert_problem(unauthenticated, 401).await;
    assert_eq!(
        app.invoices_of(customer).await.len(),
        0,
        "nothing was created"
    );
    // One more than the limit is refused; the limit itself is taken.
    let full = Value::from(vec![item; 1_000]).to_string();
    assert_eq!(batch(&app, &full).await.len(), 1_000);
}
