use antaeus_models::{Currency, InvoiceStatus};
use serde_json::Value;

use crate::api_tests;
use crate::helpers::{TestApp, assert_problem};

api_tests!(
    an_invoice_has_the_original_json_shape_with_an_exact_amount,
    the_original_data_set_is_served_in_one_default_page,
    listing_filters_by_status_and_customer,
    a_client_can_walk_every_invoice_page_by_page,
    unknown_invoice_is_404,
    malformed_invoice_ids_are_400,
    malformed_listing_queries_are_400,
);

async fn an_invoice_has_the_original_json_shape_with_an_exact_amount(app: TestApp) {
    let (customer, invoice) = app
        .add_invoice(Currency::DKK, 12_345, InvoiceStatus::Pending)
        .await;
    let response = app.get(&format!("/rest/v1/invoices/{}", invoice.id)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.text().await.unwrap(),
        format!(
            r#"{{"id":{},"customerId":{},"amount":{{"value":123.45,"currency":"DKK"}},"status":"PENDING","nextAttemptAt":null,"attempts":0,"failureReason":null,"externalId":null,"dueAt":"{}","description":null,"refundedAmount":{{"value":0.00,"currency":"DKK"}},"dispute":null,"extraCharges":0}}"#,
            invoice.id,
            customer.id,
            invoice
                .due_at
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        ),
        "the original fields first, then the billing ones, the invoicing ones, then the payment's life after the call"
    );

    // Whole amounts keep two decimals: 10.00, never 10 or 1e1.
    let (_, whole) = app
        .add_invoice(Currency::USD, 1_000, InvoiceStatus::Paid)
        .await;
    let text = app
        .get(&format!("/rest/v1/invoices/{}", whole.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#""amount":{"value":10.00,"currency":"USD"},"status":"PAID""#),
        "{text}"
    );
}

async fn the_original_data_set_is_served_in_one_default_page(app: TestApp) {
    let response = app.get("/rest/v1/invoices").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("link").is_some(),
        "a full page links to the next"
    );
    let invoices: Vec<Value> = response.json().await.unwrap();
    assert_eq!(invoices.len(), 1000, "100 customers x 10 invoices");
    let ids: Vec<i64> = invoices.iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    for invoice in &invoices {
        let obj = invoice.as_object().unwrap();
        let mut keys: Vec<_> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "amount",
                "attempts",
                "customerId",
                "description",
                "dispute",
                "dueAt",
                "externalId",
                "extraCharges",
                "failureReason",
                "id",
                "nextAttemptAt",
                "refundedAmount",
                "status"
            ]
        );
        let value = invoice["amount"]["value"].as_f64().unwrap();
        assert!((10.0..=500.0).contains(&value), "{invoice}");
    }
    let pending = invoices.iter().filter(|i| i["status"] == "PENDING").count();
    assert_eq!(pending, 100, "each customer's first invoice is PENDING");

    let next: Vec<Value> = app
        .get(&format!("/rest/v1/invoices?after={}", ids[999]))
        .await
        .json()
        .await
        .unwrap();
    assert!(next.is_empty());
}

async fn listing_filters_by_status_and_customer(app: TestApp) {
    let pending: Vec<Value> = app
        .get("/rest/v1/invoices?status=PENDING")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending.len(), 100);
    assert!(pending.iter().all(|i| i["status"] == "PENDING"));

    let customer = pending[3]["customerId"].as_i64().unwrap();
    let theirs: Vec<Value> = app
        .get(&format!("/rest/v1/invoices?customerId={customer}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs.len(), 10);
    assert!(theirs.iter().all(|i| i["customerId"] == customer));
    let currencies: std::collections::HashSet<_> = theirs
        .iter()
        .map(|i| i["amount"]["currency"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        currencies.len(),
        1,
        "a customer's invoices share their currency"
    );

    let paid_of_theirs: Vec<Value> = app
        .get(&format!(
            "/rest/v1/invoices?customerId={customer}&status=PAID&limit=4"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(paid_of_theirs.len(), 4);
    assert!(
        paid_of_theirs
            .iter()
            .all(|i| i["status"] == "PAID" && i["customerId"] == customer)
    );

    let nobody: Vec<Value> = app
        .get("/rest/v1/invoices?customerId=999999")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        nobody.is_empty(),
        "an unknown customer filter is an empty list, not an error"
    );
}

async fn a_client_can_walk_every_invoice_page_by_page(app: TestApp) {
    let mut path = "/rest/v1/invoices?status=PAID&limit=300".to_owned();
    let mut ids = Vec::new();
    let mut pages = 0;
    loop {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 200);
        let link = response
            .headers()
            .get("link")
            .map(|v| v.to_str().unwrap().to_owned());
        let page: Vec<Value> = response.json().await.unwrap();
        pages += 1;
        assert!(page.iter().all(|i| i["status"] == "PAID"));
        ids.extend(page.iter().map(|i| i["id"].as_i64().unwrap()));
        match link {
            Some(link) => {
                // `</rest/v1/invoices?...&after=N>; rel="next"`
                let target = link
                    .trim_start_matches('<')
                    .split('>')
                    .next()
                    .unwrap()
                    .to_owned();
                assert!(link.ends_with("rel=\"next\""), "{link}");
                path = target;
            }
            None => break,
        }
        assert!(pages < 10, "pagination must terminate");
    }
    assert_eq!(ids.len(), 900);
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "no repeats, no reordering"
    );
}

async fn unknown_invoice_is_404(app: TestApp) {
    let body = assert_problem(app.get("/rest/v1/invoices/987654").await, 404).await;
    assert!(
        body["detail"].as_str().unwrap().contains("987654"),
        "{body}"
    );
}

async fn malformed_invoice_ids_are_400(app: TestApp) {
    for id in [
        "abc",
        "0",
        "-1",
        "1.5",
        "99999999999999999999",
        "%20",
        "1e3",
    ] {
        let body = assert_problem(app.get(&format!("/rest/v1/invoices/{id}")).await, 400).await;
        assert!(
            body["detail"].as_str().unwrap().contains("id"),
            "{id}: {body}"
        );
    }
}

async fn malformed_listing_queries_are_400(app: TestApp) {
    for query in [
        "status=paid",
        "status=",
        "status=UNKNOWN",
        "customerId=abc",
        "customerId=0",
        "limit=0",
        "limit=1001",
        "limit=-5",
        "limit=ten",
        "after=x",
        "after=-1",
        "limit=5&limit=6",
        "status=%FF",
    ] {
        assert_problem(app.get(&format!("/rest/v1/invoices?{query}")).await, 400).await;
    }
}
