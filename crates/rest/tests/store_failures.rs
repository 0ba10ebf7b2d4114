//! How storage failures reach clients: never as a bare 500 with a stack of internals.

use std::sync::Arc;

use actix_web::dev::ServiceResponse;
use actix_web::{App, test, web};
use antaeus_core::billing::{
    BillingConfig, BillingDeps, BillingService, RunExecutor, SeededRandom,
};
use antaeus_core::payment_provider::MockPaymentProvider;
use antaeus_core::service::{PaymentEventDeps, PaymentEventService, RefundService};
use antaeus_core::store::{
    MockAttemptStore, MockBillingStore, MockCustomerStore, MockEventStore, MockInstanceStore,
    MockInvoiceStore, MockPaymentStore, MockRefundStore, MockRunStore, StoreError,
};
use antaeus_core::{CustomerService, EventService, InvoiceService, ManualClock, RunService};
use antaeus_rest::{ApiState, ApiTokens, MetricsSource, Readiness, configure};
use async_trait::async_trait;

struct Ready;

#[async_trait]
impl Readiness for Ready {
    async fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

struct NoMetrics;

#[async_trait]
impl MetricsSource for NoMetrics {
    async fn render(&self) -> String {
        String::new()
    }
}

/// The API on `invoices`, with every other dependency mocked and unused.
fn state(invoices: MockInvoiceStore) -> ApiState {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let billing = BillingService::new(
        BillingDeps {
            billing: Arc::new(MockBillingStore::new()),
            runs: Arc::new(MockRunStore::new()),
            instances: Arc::new(MockInstanceStore::new()),
            provider: Arc::new(MockPaymentProvider::new()),
            clock: clock.clone(),
            random: Arc::new(SeededRandom::new(1)),
        },
        BillingConfig::default(),
        "test",
    );
    let invoices = Arc::new(invoices);
    ApiState {
        customers: CustomerService::new(Arc::new(MockCustomerStore::new()), clock.clone()),
        invoices: InvoiceService::new(
            invoices.clone(),
            Arc::new(MockAttemptStore::new()),
            clock.clone(),
        ),
        runs: RunService::new(
            Arc::new(MockRunStore::new()),
            Arc::new(MockAttemptStore::new()),
            invoices,
            Arc::new(RunExecutor::new(billing)),
            clock.clone(),
        ),
        events: EventService::new(Arc::new(MockEventStore::new()), clock.clone()),
        payments: PaymentEventService::new(
            PaymentEventDeps {
                store: Arc::new(MockPaymentStore::new()),
                refunds: Arc::new(MockRefundStore::new()),
                reader: None,
                provider: Arc::new(MockPaymentProvider::new()),
                clock: clock.clone(),
            },
            Default::default(),
            std::time::Duration::from_secs(1),
        ),
        refunds: RefundService::new(
            Arc::new(MockRefundStore::new()),
            Arc::new(MockPaymentProvider::new()),
            clock,
            std::time::Duration::from_secs(1),
        ),
        tokens: ApiTokens::default(),
        readiness: Arc::new(Ready),
        metrics: Arc::new(NoMetrics),
    }
}

/// GETs `uri` from the API built on `invoices`.
async fn get(invoices: MockInvoiceStore, uri: &str) -> ServiceResponse {
    let state = state(invoices);
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
