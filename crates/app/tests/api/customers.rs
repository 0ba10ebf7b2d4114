use antaeus_models::{Currency, InvoiceStatus};
use serde_json::Value;

use crate::api_tests;
use crate::helpers::{TestApp, assert_problem};

api_tests!(
    a_customer_has_the_original_json_shape,
    customers_are_listed_by_id_and_paginated,
    unknown_customer_is_404_and_malformed_ids_are_400,
);

async fn a_customer_has_the_original_json_shape(app: TestApp) {
    let (customer, _) = app
        .add_invoice(Currency::SEK, 100, InvoiceStatus::Pending)
        .await;
    let response = app
        .get(&format!("/rest/v1/customers/{}", customer.id))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.text().await.unwrap(),
        format!(
            r#"{{"id":{},"currency":"SEK","externalId":null,"name":null,"email":null,"provider":{{"customerRef":null,"paymentMethodRef":null}}}}"#,
            customer.id
        ),
        "the original fields first, then the invoicing ones"
    );
}

async fn customers_are_listed_by_id_and_paginated(app: TestApp) {
    let text = app.get("/rest/v1/customers").await.text().await.unwrap();
    assert!(
        text.starts_with(r#"[{"id":1,"currency":""#),
        "the original fields first: {text:.80}"
    );
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(all.len(), 100);
    for c in &all {
        let code = c["currency"].as_str().unwrap();
        assert!(code.parse::<Currency>().is_ok(), "{c}");
        assert_eq!(c.as_object().unwrap().len(), 6, "{c}");
        assert!(c["externalId"].is_null() && c["provider"]["customerRef"].is_null());
    }
    let first = app.get("/rest/v1/customers?limit=40").await;
    let link = first.headers()["link"].to_str().unwrap().to_owned();
    let first: Vec<Value> = first.json().await.unwrap();
    assert_eq!(first.len(), 40);
    assert_eq!(first[..], all[..40]);
    let last_id = first[39]["id"].as_i64().unwrap();
    assert!(link.contains(&format!("after={last_id}")), "{link}");
    let rest: Vec<Value> = app
        .get(&format!("/rest/v1/customers?limit=1000&after={last_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest[..], all[40..]);
}

async fn unknown_customer_is_404_and_malformed_ids_are_400(app: TestApp) {
    assert_problem(app.get("/rest/v1/customers/100000").await, 404).await;
    for id in ["x", "0", "-7", "1%2F2"] {
        assert_problem(app.get(&format!("/rest/v1/customers/{id}")).await, 400).await;
    }
    for query in ["limit=0", "after=abc", "limit=2000"] {
        assert_problem(app.get(&format!("/rest/v1/customers?{query}")).await, 400).await;
    }
}
