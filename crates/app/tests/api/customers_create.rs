//! `POST /rest/v1/customers` and `GET /rest/v1/customers?externalId=`: created once per
//! external id or idempotency key, found again with the same fields, refused with others.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::api_tests;
use crate::helpers::{CUSTOMERS, TestApp, assert_problem};

api_tests!(
    a_customer_needs_only_a_currency_and_is_located,
    a_customer_keeps_every_field_and_is_found_by_its_external_id,
    the_same_external_id_answers_the_customer_or_a_conflict_naming_the_fields,
    an_idempotency_key_replays_the_creation_and_refuses_another_request,
    concurrent_requests_under_one_key_create_one_customer,
    malformed_customers_are_400_and_create_nothing,
);

fn acme() -> Value {
    json!({
        "currency": "EUR",
        "externalId": "acme-42",
        "name": "Acme Corp",
        "email": "billing@acme.test",
        "provider": {"customerRef": "cus_NffrFeUfNV2Hib", "paymentMethodRef": "pm_1MqLiJ"}
    })
}

async fn customer_count(app: &TestApp) -> usize {
    app.get_json(CUSTOMERS).await.as_array().unwrap().len()
}

async fn a_customer_needs_only_a_currency_and_is_located(app: TestApp) {
    let response = app.post(CUSTOMERS, r#"{"currency":"DKK"}"#, &[]).await;
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let text = response.text().await.unwrap();
    let created: Value = serde_json::from_str(&text).unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(location, format!("{CUSTOMERS}/{id}"));
    assert_eq!(
        text,
        format!(
            r#"{{"id":{id},"currency":"DKK","externalId":null,"name":null,"email":null,"provider":{{"customerRef":null,"paymentMethodRef":null}}}}"#
        )
    );
    assert_eq!(app.get_json(&location).await, created);
    assert_eq!(id, 101, "after the 100 original customers");
}

async fn a_customer_keeps_every_field_and_is_found_by_its_external_id(app: TestApp) {
    let created = app.create_customer(acme()).await;
    let mut expected = acme();
    expected["id"] = created["id"].clone();
    assert_eq!(created, expected);

    let found = app
        .get_json(&format!("{CUSTOMERS}?externalId=acme-42"))
        .await;
    assert_eq!(found, json!([created]), "a list of the one customer");
    let nobody = app
        .get_json(&format!("{CUSTOMERS}?externalId=nobody"))
        .await;
    assert_eq!(nobody, json!([]), "no such customer: an empty list");
    let id = created["id"].as_i64().unwrap();
    let after = app
        .get_json(&format!("{CUSTOMERS}?externalId=acme-42&after={id}"))
        .await;
    assert_eq!(after, json!([]), "filtered like any page");
    for bad in [
        "externalId=",
        "externalId=a%20b",
        "externalId=x&externalId=y",
    ] {
        assert_problem(app.get(&format!("{CUSTOMERS}?{bad}")).await, 400).await;
    }
}

async fn the_same_external_id_answers_the_customer_or_a_conflict_naming_the_fields(app: TestApp) {
    let created = app.create_customer(acme()).await;
    let again = app.post(CUSTOMERS, &acme().to_string(), &[]).await;
    assert_eq!(again.status(), 200, "the same fields: found, not created");
    assert_eq!(
        again.headers()["location"].to_str().unwrap(),
        format!("{CUSTOMERS}/{}", created["id"])
    );
    assert_eq!(again.json::<Value>().await.unwrap(), created);

    let mut renamed = acme();
    renamed["name"] = json!("Acme Holdings");
    renamed["email"] = Value::Null;
    let conflict = app.post(CUSTOMERS, &renamed.to_string(), &[]).await;
    let problem = assert_problem(conflict, 409).await;
    assert_eq!(problem["type"], "urn:antaeus:problem:external_id_conflict");
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("acme-42") && detail.contains("name, email"),
        "{problem}"
    );
    assert!(
        detail.contains(&format!("id {}", created["id"])),
        "{problem}"
    );

    let mut other_currency = acme();
    other_currency["currency"] = json!("USD");
    let problem = assert_problem(
        app.post(CUSTOMERS, &other_currency.to_string(), &[]).await,
        409,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("currency"),
        "{problem}"
    );
    assert_eq!(customer_count(&app).await, 101, "one customer made");
    let unchanged = app
        .get_json(&format!("{CUSTOMERS}/{}", created["id"]))
        .await;
    assert_eq!(unchanged, created, "a refused request changes nothing");
}

async fn an_idempotency_key_replays_the_creation_and_refuses_another_request(app: TestApp) {
    let body = json!({"currency": "SEK", "name": "No external id"}).to_string();
    let key = [("Idempotency-Key", "create-customer-1")];
    let first = app.post(CUSTOMERS, &body, &key).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    let replay = app.post(CUSTOMERS, &body, &key).await;
    assert_eq!(replay.status(), 200, "a replay answers what the first made");
    assert_eq!(replay.json::<Value>().await.unwrap(), first);

    let other = json!({"currency": "GBP"}).to_string();
    let problem = assert_problem(app.post(CUSTOMERS, &other, &key).await, 422).await;
    assert_eq!(
        problem["type"],
        "urn:antaeus:problem:idempotency_key_reused"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("create-customer-1"),
        "{problem}"
    );
    // Without a key, the same body is a new customer each time.
    app.create_customer(json!({"currency": "SEK", "name": "No external id"}))
        .await;
    assert_eq!(customer_count(&app).await, 102);
    for bad in ["", "has space", &"k".repeat(256)] {
        let problem = assert_problem(
            app.post(CUSTOMERS, &body, &[("Idempotency-Key", bad)])
                .await,
            400,
        )
        .await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{problem}"
        );
    }
}

async fn concurrent_requests_under_one_key_create_one_customer(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let mut racers = Vec::new();
    for _ in 0..8 {
        let app = app.clone();
        racers.push(tokio::spawn(async move {
            let response = app
                .post(
                    CUSTOMERS,
                    r#"{"currency":"USD","name":"Racer"}"#,
                    &[("Idempotency-Key", "race-1")],
                )
                .await;
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (status, body["id"].as_i64().unwrap())
        }));
    }
    let mut statuses = Vec::new();
    let mut ids = HashSet::new();
    for racer in racers {
        let (status, id) = racer.await.unwrap();
        statuses.push(status);
        ids.insert(id);
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    assert_eq!(ids.len(), 1);
    assert_eq!(customer_count(&app).await, 101);
}

async fn malformed_customers_are_400_and_create_nothing(app: TestApp) {
    for (body, needle) in [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[]", "JSON object"),
        (r#"["EUR"]"#, "JSON object"),
        ("{}", "missing field `currency`"),
        (r#"{"currency":null}"#, "null"),
        (r#"{"currency":"JPY"}"#, "EUR, USD, DKK, SEK, GBP"),
        (r#"{"currency":"eur"}"#, "currency"),
        (r#"{"currency":"EUR","externalId":""}"#, "externalId"),
        (r#"{"currency":"EUR","externalId":"a b"}"#, "externalId"),
        (r#"{"currency":"EUR","externalId":42}"#, "string"),
        (r#"{"currency":"EUR","name":""}"#, "name"),
        (r#"{"currency":"EUR","name":"a\u0000b"}"#, "name"),
        (r#"{"currency":"EUR","email":"nobody"}"#, "email"),
        (
            r#"{"currency":"EUR","provider":{"customerRef":"cus 1"}}"#,
            "provider.customerRef",
        ),
        (
            r#"{"currency":"EUR","provider":"cus_1"}"#,
            "expected a JSON object",
        ),
        (
            r#"{"currency":"EUR","provider":{"card":"4242"}}"#,
            "unknown field `card`",
        ),
        (
            r#"{"currency":"EUR","external_id":"acme"}"#,
            "unknown field `external_id`",
        ),
    ] {
        let problem = assert_problem(app.post(CUSTOMERS, body, &[]).await, 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(needle),
            "{body}: {problem}"
        );
    }
    let long_name = json!({"currency": "EUR", "name": "n".repeat(256)}).to_string();
    assert_problem(app.post(CUSTOMERS, &long_name, &[]).await, 400).await;
    let unauthenticated = app
        .client
        .post(format!("{}{CUSTOMERS}", app.address))
        .body(r#"{"currency":"EUR"}"#)
        .send()
        .await
        .unwrap();
    assert_problem(unauthenticated, 401).await;
    assert_eq!(customer_count(&app).await, 100, "nothing was created");
}
