//! `PATCH /rest/v1/customers/{id}`: absent leaves, `null` clears, a value replaces; the
//! currency changes only while the customer has no invoice.

use serde_json::{Value, json};

use crate::api_tests;
use crate::helpers::{CUSTOMERS, TestApp, assert_problem};

api_tests!(
    a_patch_sets_clears_and_leaves_fields,
    an_empty_patch_answers_the_customer_unchanged,
    the_currency_changes_only_while_the_customer_has_no_invoice,
    a_creation_repeated_under_its_key_after_a_change_still_answers_200,
    unknown_malformed_and_unauthenticated_patches_are_refused,
);

async fn acme(app: &TestApp) -> (String, Value) {
    let created = app
        .create_customer(json!({
            "currency": "EUR",
            "externalId": "acme-42",
            "name": "Acme Corp",
            "email": "billing@acme.test",
            "provider": {"customerRef": "cus_1", "paymentMethodRef": "pm_1"}
        }))
        .await;
    (format!("{CUSTOMERS}/{}", created["id"]), created)
}

async fn a_patch_sets_clears_and_leaves_fields(app: TestApp) {
    let (path, created) = acme(&app).await;
    let response = app
        .patch(
            &path,
            r#"{"name":"Acme Holdings","email":null,"provider":{"paymentMethodRef":"pm_2"}}"#,
        )
        .await;
    assert_eq!(response.status(), 200);
    let patched: Value = response.json().await.unwrap();
    let mut expected = created.clone();
    expected["name"] = json!("Acme Holdings");
    expected["email"] = Value::Null;
    expected["provider"]["paymentMethodRef"] = json!("pm_2");
    assert_eq!(patched, expected, "customerRef, currency, externalId left");
    assert_eq!(app.get_json(&path).await, expected, "stored");

    let cleared: Value = app
        .patch(&path, r#"{"provider":null}"#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        cleared["provider"],
        json!({"customerRef": null, "paymentMethodRef": null})
    );
    assert_eq!(cleared["name"], "Acme Holdings");
    // The original customers take contact fields too.
    let original: Value = app
        .patch(
            "/rest/v1/customers/1",
            r#"{"provider":{"customerRef":"cus_9"}}"#,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            original["id"].as_i64(),
            &original["provider"]["customerRef"]
        ),
        (Some(1), &json!("cus_9"))
    );
}

async fn an_empty_patch_answers_the_customer_unchanged(app: TestApp) {
    let (path, created) = acme(&app).await;
    for body in ["", "{}", "  \n", r#"{"provider":{}}"#] {
        let response = app.patch(&path, body).await;
        assert_eq!(response.status(), 200, "{body:?}");
        assert_eq!(response.json::<Value>().await.unwrap(), created, "{body:?}");
    }
}

async fn the_currency_changes_only_while_the_customer_has_no_invoice(app: TestApp) {
    let (path, created) = acme(&app).await;
    let changed: Value = app
        .patch(&path, r#"{"currency":"USD"}"#)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["currency"], "USD", "no invoice yet");
    app.create_invoice(json!({
        "customerId": created["id"],
        "amount": {"value": "10.00", "currency": "USD"}
    }))
    .await;

    let locked = app
        .patch(&path, r#"{"currency":"GBP","name":"Renamed"}"#)
        .await;
    let problem = assert_problem(locked, 409).await;
    assert_eq!(problem["type"], "urn:antaeus:problem:currency_locked");
    assert!(
        problem["detail"].as_str().unwrap().contains("invoices"),
        "{problem}"
    );
    let after = app.get_json(&path).await;
    assert_eq!(
        (&after["currency"], &after["name"]),
        (&json!("USD"), &json!("Acme Corp")),
        "a refused patch changes nothing"
    );
    let same = app.patch(&path, r#"{"currency":"USD"}"#).await;
    assert_eq!(same.status(), 200, "the currency it has is no change");
    // An original customer has invoices from the seed.
    let original = app.get_json("/rest/v1/customers/1").await;
    let other = if original["currency"] == "SEK" {
        "DKK"
    } else {
        "SEK"
    };
    let problem = assert_problem(
        app.patch(
            "/rest/v1/customers/1",
            &json!({ "currency": other }).to_string(),
        )
        .await,
        409,
    )
    .await;
    assert_eq!(problem["type"], "urn:antaeus:problem:currency_locked");
}

async fn unknown_malformed_and_unauthenticated_patches_are_refused(app: TestApp) {
    let (path, created) = acme(&app).await;
    assert_problem(app.patch("/rest/v1/customers/99999", "{}").await, 404).await;
    assert_problem(app.patch("/rest/v1/customers/abc", "{}").await, 400).await;
    for (body, needle) in [
        (r#"{"currency":null}"#, "cannot be null"),
        (r#"{"currency":"XXX"}"#, "EUR, USD, DKK, SEK, GBP"),
        (r#"{"externalId":"other"}"#, "unknown field `externalId`"),
        (r#"{"id":7}"#, "unknown field `id`"),
        (r#"{"name":""}"#, "name"),
        (r#"{"name":7}"#, "invalid type"),
        (r#"{"email":"no-at-sign"}"#, "email"),
        (
            r#"{"provider":{"paymentMethodRef":"pm 2"}}"#,
            "provider.paymentMethodRef",
        ),
        (r#"{"provider":"pm_2"}"#, "expected a JSON object"),
        (r#"{"provider":["pm_2"]}"#, "expected a JSON object"),
        ("[]", "JSON object"),
        ("{", "not valid JSON"),
    ] {
        let problem = assert_problem(app.patch(&path, body).await, 400).await;
        assert!(
            problem["detail"].as_str().unwrap().contains(needle),
            "{body}: {problem}"
        );
    }
    for token in [None, Some("wrong")] {
        let mut request = app
            .client
            .patch(format!("{}{path}", app.address))
            .body(r#"{"name":"Mallory"}"#);
        if let Some(token) = token {
            request = request.header("x-api-key", token);
        }
        assert_problem(request.send().await.unwrap(), 401).await;
    }
    assert_eq!(app.get_json(&path).await, created, "nothing changed");
}

/// The external id compares fields (a changed customer is a conflict for a new request), but a
/// request repeated under its idempotency key is the same request: answered, not refused.
async fn a_creation_repeated_under_its_key_after_a_change_still_answers_200(app: TestApp) {
    let body = json!({"currency": "EUR", "externalId": "acme-7", "name": "Acme"}).to_string();
    let key = [("Idempotency-Key", "signup-acme-7")];
    let created = app.post(CUSTOMERS, &body, &key).await;
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let path = format!("{CUSTOMERS}/{}", created["id"]);
    assert_eq!(
        app.patch(&path, r#"{"name":"Acme Ltd"}"#).await.status(),
        200
    );

    let replay = app.post(CUSTOMERS, &body, &key).await;
    assert_eq!(replay.status(), 200);
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(
        (&replay["id"], &replay["name"]),
        (&created["id"], &json!("Acme Ltd"))
    );
    let unkeyed = app.post(CUSTOMERS, &body, &[]).await;
    let problem = assert_problem(unkeyed, 409).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("name"),
        "{problem}"
    );
}
