//! `spawn_app`: a fresh database, the real server on a random port, and an HTTP client.

use std::collections::HashMap;

use antaeus_app::settings::Settings;
use antaeus_app::startup::Application;
use antaeus_core::store::{BillingStore, ClaimRequest, InvoiceStore, NewRun, RunStore};
use antaeus_data::testing::TestDatabase;
use antaeus_data::{Backend, NewInvoice};
use antaeus_models::{
    Currency, Customer, IdempotencyKey, InstanceId, Invoice, InvoiceFilter, InvoiceId,
    InvoiceStatus, Money, PageRequest, RunScope, RunTrigger,
};
use chrono::{TimeDelta, Utc};

/// Where customers are created and listed.
pub const CUSTOMERS: &str = "/rest/v1/customers";

/// Where invoices are created and listed.
pub const INVOICES: &str = "/rest/v1/invoices";

/// The API token test apps are configured with.
pub const API_TOKEN: &str = "test-api-token-0123456789";

/// A running Antaeus and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The database behind the server, for arranging data and checking effects.
    pub db: TestDatabase,
    /// A client without redirects or proxies.
    pub client: reqwest::Client,
}

/// Starts the service on a fresh database of `backend` (seeded with the original 100 customers
/// and 1,000 invoices, as `serve` does on an empty database). `None` when PostgreSQL is not
/// configured for tests.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, &[]).await
}

/// [`spawn_app`] with environment variables added or replaced.
pub async fn spawn_app_with(
    backend: Backend,
    overrides: &[(&'static str, &str)],
) -> Option<TestApp> {
    let db = TestDatabase::new(backend).await?;
    Some(spawn_app_on(db, overrides).await)
}

/// Starts the service on `db` (which other instances may share), with `overrides`.
pub async fn spawn_app_on(db: TestDatabase, overrides: &[(&'static str, &str)]) -> TestApp {
    let mut vars: HashMap<&str, String> = HashMap::from([
        ("ANTAEUS_DATABASE_URL", db.url_string()),
        ("ANTAEUS_HTTP_ADDR", "127.0.0.1:0".to_owned()),
        ("ANTAEUS_DB_POOL_SIZE", "4".to_owned()),
        ("ANTAEUS_SCHEDULER", "off".to_owned()),
        ("ANTAEUS_API_TOKEN", API_TOKEN.to_owned()),
        ("ANTAEUS_SIMULATED_LATENCY_MS", "1".to_owned()),
    ]);
    for (name, value) in overrides {
        vars.insert(name, (*value).to_owned());
    }
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings");
    let app = Application::build(&settings)
        .await
        .expect("build application");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("http client");
    TestApp {
        address,
        db,
        client,
    }
}

impl TestApp {
    /// GET `path` (with query), returning the response.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// GET `path` with the API token (for apps with a read token configured, where reads need
    /// one).
    pub async fn get_with_token(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .header("x-api-key", API_TOKEN)
            .send()
            .await
            .expect("request")
    }

    /// POSTs `body` (raw) to `path` with the API token and optional extra headers.
    pub async fn post(
        &self,
        path: &str,
        body: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header("x-api-key", API_TOKEN)
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// PATCHes `body` (raw) to `path` with the API token.
    pub async fn patch(&self, path: &str, body: &str) -> reqwest::Response {
        self.client
            .patch(format!("{}{path}", self.address))
            .header("x-api-key", API_TOKEN)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_owned())
            .send()
            .await
            .expect("request")
    }

    /// GETs `path` and reads its JSON body, asserting a 200.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// Creates a customer through the API from `body`, asserting a 201; returns its JSON.
    pub async fn create_customer(&self, body: serde_json::Value) -> serde_json::Value {
        let response = self.post(CUSTOMERS, &body.to_string(), &[]).await;
        assert_eq!(response.status(), 201, "POST {CUSTOMERS} {body}");
        response.json().await.expect("customer JSON")
    }

    /// Creates an invoice through the API from `body`, asserting a 201; returns its JSON.
    pub async fn create_invoice(&self, body: serde_json::Value) -> serde_json::Value {
        let response = self.post(INVOICES, &body.to_string(), &[]).await;
        assert_eq!(response.status(), 201, "POST {INVOICES} {body}");
        response.json().await.expect("invoice JSON")
    }

    /// The invoices of `customer`, as the API lists them.
    pub async fn invoices_of(&self, customer: i64) -> Vec<serde_json::Value> {
        let list = self
            .get_json(&format!("{INVOICES}?customerId={customer}"))
            .await;
        list.as_array().expect("a JSON array").clone()
    }

    /// Triggers a billing run (a new key) and waits for it to end; returns its JSON.
    pub async fn bill(&self) -> serde_json::Value {
        let run: serde_json::Value = self
            .post("/rest/v1/billing/runs", "", &[])
            .await
            .json()
            .await
            .unwrap();
        self.wait_for_run(run["id"].as_i64().unwrap()).await
    }

    /// Waits until run `id` has ended and returns its JSON.
    pub async fn wait_for_run(&self, id: i64) -> serde_json::Value {
        for _ in 0..400 {
            let run: serde_json::Value = self
                .get_with_token(&format!("/rest/v1/billing/runs/{id}"))
                .await
                .json()
                .await
                .unwrap();
            if run["status"] != "RUNNING" {
                return run;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("run {id} did not end");
    }

    /// Sends `method` to `path` with no body.
    pub async fn request(&self, method: reqwest::Method, path: &str) -> reqwest::Response {
        self.client
            .request(method, format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// Another instance claims the first due invoice (invoice 1 of the original data) in a run
    /// of its own and holds it: the invoice is CHARGING until that claim's lease runs out.
    pub async fn charge_elsewhere(&self) -> InvoiceId {
        let other = InstanceId::parse("another-instance").unwrap();
        let (run, _) = self
            .db
            .db
            .create_run(&NewRun {
                idempotency_key: IdempotencyKey::parse("elsewhere").unwrap(),
                trigger: RunTrigger::Cli,
                instance: other.clone(),
                now: Utc::now(),
                request_fingerprint: "scope=all".into(),
                scope: RunScope::All,
            })
            .await
            .unwrap();
        let claimed = self
            .db
            .db
            .claim(&ClaimRequest {
                instance: other,
                run: run.id,
                now: Utc::now(),
                limit: 1,
                lease_timeout: TimeDelta::seconds(30),
                fresh_after: None,
                include_stale: true,
                scope: RunScope::All,
                require_customer_ref: false,
            })
            .await
            .unwrap();
        claimed[0].invoice.id
    }

    /// Adds a customer with one invoice of `minor` cents in `status`.
    pub async fn add_invoice(
        &self,
        currency: Currency,
        minor: i64,
        status: InvoiceStatus,
    ) -> (Customer, Invoice) {
        let customer = self
            .db
            .db
            .insert_customers(vec![currency])
            .await
            .unwrap()
            .remove(0);
        self.db
            .db
            .insert_invoices(vec![NewInvoice {
                customer_id: customer.id,
                amount: Money::from_minor(minor, currency).unwrap(),
                status,
            }])
            .await
            .unwrap();
        let invoice = self
            .db
            .db
            .list_invoices(
                InvoiceFilter {
                    customer_id: Some(customer.id),
                    ..InvoiceFilter::default()
                },
                PageRequest::default(),
            )
            .await
            .unwrap()
            .remove(0);
        (customer, invoice)
    }
}

/// Asserts an RFC 9457 problem response with `status`, returning its body.
pub async fn assert_problem(response: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: serde_json::Value = response.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert!(body["title"].is_string(), "{body}");
    assert!(body["type"].is_string(), "{body}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    body
}

/// For each `name`, generates `sqlite::name` and `postgres::name` tests that call the shared
/// `async fn name(app: TestApp)` with a freshly spawned app on that backend.
#[macro_export]
macro_rules! api_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::helpers::spawn_app(antaeus_data::Backend::Sqlite).await.unwrap();
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::helpers::spawn_app(antaeus_data::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
