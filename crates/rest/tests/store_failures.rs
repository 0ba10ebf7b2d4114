//! How storage failures reach clients: never as a bare 500 with a stack of internals.

use std::sync::Arc;

use actix_web::dev::ServiceResponse;
use actix_web::{App, test, web};
use antaeus_core::store::{MockCustomerStore, MockInvoiceStore, StoreError};
use antaeus_core::{CustomerService, InvoiceService};
use antaeus_rest::{ApiState, configure};

/// GETs `uri` from the API built on `invoices`.
async fn get(invoices: MockInvoiceStore, uri: &str) -> ServiceResponse {
    let state = ApiState {
        customers: CustomerService::new(Arc::new(MockCustomerStore::new())),
        invoices: InvoiceService::new(Arc::new(invoices)),
    };
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(state))
            .configure(configure),
    )
    .await;
    test::call_service(&app, test::TestRequest::get().uri(uri).to_request()).await
}

#[actix_web::test]
async fn an_unreachable_database_is_503_with_retry_after_and_a_problem_body() {
    let mut store = MockInvoiceStore::new();
    store.expect_fetch_invoice().returning(|_| {
        Err(StoreError::Unavailable(
            "pool timed out at db.internal:5432".into(),
        ))
    });
    let response = get(store, "/rest/v1/invoices/1").await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("retry-after").unwrap(), "5");
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        "application/problem+json"
    );
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body["status"], 503);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        !detail.contains("db.internal"),
        "internals stay in the log: {detail}"
    );
}

#[actix_web::test]
async fn a_corrupt_row_is_500_without_internals() {
    let mut store = MockInvoiceStore::new();
    store.expect_list_invoices().returning(|_, _| {
        Err(StoreError::Corrupt(
            "invoices row 9: unknown currency \"XXX\"".into(),
        ))
    });
    let response = get(store, "/rest/v1/invoices").await;
    assert_eq!(response.status(), 500);
    let body: serde_json::Value = test::read_body_json(response).await;
    assert_eq!(body["status"], 500);
    assert!(!body["detail"].as_str().unwrap().contains("XXX"));
}
