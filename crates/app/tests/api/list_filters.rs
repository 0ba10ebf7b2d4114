//! The listings' query parameters: an unknown one is a 400 naming it (a misspelt filter must
//! never answer everything), and the console's filters are the API's too: invoices by
//! currency, due or overdue, and customer external id; events by invoice and type. Next links
//! keep every filter.

use serde_json::{Value, json};

use crate::api_tests;
use crate::helpers::{INVOICES, TestApp, assert_problem};

api_tests!(
    unknown_query_parameters_are_400_naming_the_parameter,
    invoices_are_filtered_by_currency_due_and_customer_external_id,
    events_are_filtered_by_invoice_and_type,
);

async fn unknown_query_parameters_are_400_naming_the_parameter(app: TestApp) {
    for (path, name) in [
        ("/rest/v1/invoices?curency=USD", "curency"),
        ("/rest/v1/invoices?status=PAID&customer=3", "customer"),
        ("/rest/v1/customers?currency=USD", "currency"),
        ("/rest/v1/events?invoice=3", "invoice"),
        ("/rest/v1/billing/runs?after=3", "after"),
    ] {
        let problem = assert_problem(app.get_with_token(path).await, 400).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("unknown query parameter {name}")),
            "{path}: {detail}"
        );
    }
}

/// Every item of the listing at `path`, following its next links; and the first next link.
async fn all(app: &TestApp, path: &str) -> (Vec<Value>, Option<String>) {
    let mut items = Vec::new();
    let mut first_link = None;
    let mut next = Some(path.to_owned());
    while let Some(path) = next.take() {
        let response = app.get_with_token(&path).await;
        assert_eq!(response.status(), 200, "{path}");
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            link[link.find('<').unwrap() + 1..link.find('>').unwrap()].to_owned()
        });
        if first_link.is_none() {
            first_link.clone_from(&next);
        }
        let page: Vec<Value> = response.json().await.unwrap();
        items.extend(page);
    }
    (items, first_link)
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|i| i["id"].as_i64().unwrap()).collect()
}

async fn invoices_are_filtered_by_currency_due_and_customer_external_id(app: TestApp) {
    let acme = app
        .create_customer(json!({"currency": "EUR", "externalId": "acme-f"}))
        .await["id"]
        .clone();
    let beta = app
        .create_customer(json!({"currency": "USD", "externalId": "beta-f"}))
        .await["id"]
        .clone();
    let invoice = |customer: &Value, currency: &str, due: &str| json!({"customerId": customer, "amount": {"value": "10.00", "currency": currency}, "dueAt": due});
    let past = app
        .create_invoice(invoice(&acme, "EUR", "2020-01-01T00:00:00Z"))
        .await["id"]
        .as_i64()
        .unwrap();
    let future = app
        .create_invoice(invoice(&acme, "EUR", "2999-01-01T00:00:00Z"))
        .await["id"]
        .as_i64()
        .unwrap();
    let usd = app
        .create_invoice(invoice(&beta, "USD", "2020-01-01T00:00:00Z"))
        .await["id"]
        .as_i64()
        .unwrap();

    let by = |query: &str| format!("{INVOICES}?{query}");
    let (got, _) = all(&app, &by("customerExternalId=acme-f")).await;
    assert_eq!(ids(&got), [past, future]);
    let (got, _) = all(&app, &by("customerExternalId=nobody")).await;
    assert!(got.is_empty());
    let (got, _) = all(&app, &by("customerExternalId=acme-f&due=due")).await;
    assert_eq!(ids(&got), [past]);
    let (got, _) = all(&app, &by("customerExternalId=acme-f&due=overdue")).await;
    assert_eq!(ids(&got), [past]);

    // The seeded invoices are in every currency: only USD ones come back, page after page,
    // and the next link keeps the filter.
    let (got, link) = all(&app, &by("currency=USD&limit=50")).await;
    assert!(
        got.iter().all(|i| i["amount"]["currency"] == "USD"),
        "{got:?}"
    );
    assert!(ids(&got).contains(&usd) && !ids(&got).contains(&past));
    let link = link.expect("more than one page of USD invoices");
    assert!(
        link.contains("currency=USD") && link.contains("after="),
        "{link}"
    );
    let (due, link) = all(&app, &by("due=due&limit=10")).await;
    assert!(ids(&due).contains(&past) && ids(&due).contains(&usd));
    assert!(!ids(&due).contains(&future));
    assert!(link.expect("a next page").contains("due=due"));

    for (query, name) in [("due=soon", "due"), ("currency=JPY", "currency")] {
        let problem = assert_problem(app.get(&by(query)).await, 400).await;
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(name), "{query}: {detail}");
    }
}

async fn events_are_filtered_by_invoice_and_type(app: TestApp) {
    app.bill().await;
    let (paid, _) = all(&app, "/rest/v1/events?type=invoice.paid").await;
    assert!(!paid.is_empty());
    assert!(paid.iter().all(|e| e["type"] == "invoice.paid"), "{paid:?}");
    let invoice = paid[0]["payload"]["data"]["invoice"]["id"]
        .as_i64()
        .unwrap();
    let (about, link) = all(
        &app,
        &format!("/rest/v1/events?invoiceId={invoice}&limit=1"),
    )
    .await;
    assert!(!about.is_empty());
    assert!(
        about
            .iter()
            .all(|e| e["payload"]["data"]["invoice"]["id"] == invoice),
        "{about:?}"
    );
    if let Some(link) = link {
        assert!(link.contains(&format!("invoiceId={invoice}")), "{link}");
    }
    let (none, _) = all(
        &app,
        &format!("/rest/v1/events?invoiceId={invoice}&type=run.completed"),
    )
    .await;
    assert!(none.is_empty());
    let problem = assert_problem(app.get("/rest/v1/events?type=invoice.nope").await, 400).await;
    assert!(problem["detail"].as_str().unwrap().contains("type"));
}
