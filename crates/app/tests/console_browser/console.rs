//! The server under test: the real `antaeus serve` application on SQLite with both tokens set,
//! its data billed once so every invoice state and a finished run exist, and the sign-in.

use antaeus_data::Backend;
use fantoccini::Locator;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::chromedriver::Chromium;
use crate::helpers::{API_TOKEN, TestApp, spawn_app_with};

/// The read-only token the servers are configured with (`ANTAEUS_READ_TOKEN`).
pub const READ_TOKEN: &str = "test-read-token-0123456789";

/// A fixed session secret, so that the server does not warn about a random one.
const CONSOLE_SECRET: &str = "console-browser-test-secret-0123456789abcdef";

/// A provider that declines some charges and fails others for good, reproducibly.
const OUTCOMES: &str = "charged=40,declined=30,customer_not_found=30";

/// The external id of the customer the tests create and search for.
pub const EXTERNAL_ID: &str = "browser-acme-7";

/// A running server and what the tests know about its data.
pub struct Console {
    /// The server and its database.
    pub app: TestApp,
    /// The billing run that has ended (through the API, before the browser came), if any.
    pub run_id: Option<i64>,
    /// The customer created with [`EXTERNAL_ID`].
    pub customer_id: i64,
}

/// Starts the server with `extra` settings: 100 customers, 1,000 invoices (100 PENDING), a
/// customer with an external id and a PENDING invoice of its own, and one billing run through a
/// provider that pays, declines and fails, so that invoices of every state exist.
pub async fn start_console(extra: &[(&'static str, &str)]) -> Console {
    let mut console = start_unbilled_console(extra).await;
    let started = console.app.post("/rest/v1/billing/runs", "", &[]).await;
    assert_eq!(started.status(), 202, "a billing run starts");
    let id = started.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let run = wait_for_run(&console, id).await;
    assert_eq!(run["status"], "COMPLETED", "{run}");
    console.run_id = Some(id);
    console
}

/// Waits (10 s at most) until run `id` has ended; returns the API's view of it.
async fn wait_for_run(console: &Console, id: i64) -> Value {
    for _ in 0..400 {
        let run = console.run(id).await;
        if run["status"] != "RUNNING" {
            return run;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("run {id} did not end");
}

/// [`start_console`] without the billing run: 101 invoices are due.
pub async fn start_unbilled_console(extra: &[(&'static str, &str)]) -> Console {
    let mut settings = vec![
        ("ANTAEUS_READ_TOKEN", READ_TOKEN),
        ("ANTAEUS_CONSOLE_SECRET", CONSOLE_SECRET),
        ("ANTAEUS_SIMULATED_OUTCOMES", OUTCOMES),
        ("ANTAEUS_SIMULATED_SEED", "7"),
    ];
    settings.extend_from_slice(extra);
    let app = spawn_app_with(Backend::Sqlite, &settings)
        .await
        .expect("SQLite needs no setup");
    let customer = app
        .create_customer(json!({
            "currency": "EUR",
            "externalId": EXTERNAL_ID,
            "name": "Browser Acme",
            "email": "billing@browser-acme.test",
        }))
        .await;
    let customer_id = customer["id"].as_i64().unwrap();
    app.create_invoice(json!({
        "customerId": customer_id,
        "amount": {"value": "12.34", "currency": "EUR"}
    }))
    .await;
    Console {
        run_id: None,
        customer_id,
        app,
    }
}

impl Console {
    /// Opens a browser on this server (not signed in).
    pub async fn browser(
        &self,
        chromium: &Chromium,
        javascript: crate::browser::JavaScript,
    ) -> Browser {
        Browser::open(chromium, &self.app.address, javascript).await
    }

    /// GETs `path` of the API with the read token, asserting a 200; returns the JSON body.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self
            .app
            .client
            .get(format!("{}{path}", self.app.address))
            .header("x-api-key", READ_TOKEN)
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("JSON body")
    }

    /// The API's view of invoice `id`.
    pub async fn invoice(&self, id: i64) -> Value {
        self.get_json(&format!("/rest/v1/invoices/{id}")).await
    }

    /// The API's view of run `id`.
    pub async fn run(&self, id: i64) -> Value {
        self.get_json(&format!("/rest/v1/billing/runs/{id}")).await
    }

    /// Ids of invoices in `status`, as the API lists them (first page).
    pub async fn invoices_in(&self, status: &str) -> Vec<i64> {
        let list = self
            .get_json(&format!("/rest/v1/invoices?status={status}"))
            .await;
        list.as_array()
            .expect("a JSON array")
            .iter()
            .map(|invoice| invoice["id"].as_i64().unwrap())
            .collect()
    }
}

/// Which token a browser signs in with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `ANTAEUS_API_TOKEN`: may act.
    Operator,
    /// `ANTAEUS_READ_TOKEN`: may only look.
    Viewer,
}

/// Signs in through the sign-in form as `role` and waits for the console behind it.
pub async fn sign_in(browser: &Browser, role: Role) {
    let token = match role {
        Role::Operator => API_TOKEN,
        Role::Viewer => READ_TOKEN,
    };
    browser.goto("/console/sign-in").await;
    let field = browser.by_id("token").await;
    field.send_keys(token).await.expect("type the token");
    browser
        .client
        .find(Locator::Css(
            "form[action='/console/sign-in'] button[type=submit]",
        ))
        .await
        .expect("the Sign in button")
        .click()
        .await
        .expect("press Sign in");
    browser
        .wait_for("the console after signing in", || async {
            let path = browser.client.current_url().await?.path().to_owned();
            Ok((path != "/console/sign-in").then_some(()))
        })
        .await;
    assert!(
        has_sign_out(browser).await,
        "signed in, the page at {} offers Sign out",
        browser.path().await
    );
}

/// Whether the page offers a Sign out button (a POST form to /console/sign-out).
pub async fn has_sign_out(browser: &Browser) -> bool {
    browser
        .client
        .find_all(Locator::Css("form[action='/console/sign-out'] button"))
        .await
        .is_ok_and(|found| !found.is_empty())
}
