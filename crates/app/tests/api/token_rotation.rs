//! Rotating the API and read tokens without downtime: while a variable lists the old and the
//! new token, either one works, for the API and for the console's sign-in.

use antaeus_data::Backend;
use reqwest::Method;

use crate::console_client::Browser;
use crate::helpers::{API_TOKEN, TestApp, spawn_app_with};

/// The write token an operator rotates to (the old one is the harness' `API_TOKEN`).
const NEW_TOKEN: &str = "test-api-token-rotated-9876543210";
const OLD_READ: &str = "test-read-token-old-0123456789";
const NEW_READ: &str = "test-read-token-new-9876543210";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_listed_token_is_valid_for_the_api_and_the_console_sign_in() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let write = format!("{API_TOKEN},{NEW_TOKEN}");
        let read = format!("{OLD_READ},{NEW_READ}");
        let vars = [
            ("ANTAEUS_API_TOKEN", write.as_str()),
            ("ANTAEUS_READ_TOKEN", &read),
        ];
        if let Some(app) = spawn_app_with(backend, &vars).await {
            either_token_is_valid(&app).await;
        }
    }
}

async fn either_token_is_valid(app: &TestApp) {
    let both = format!("{API_TOKEN},{NEW_TOKEN}");
    let cases = [
        (Method::POST, API_TOKEN, 202),
        (Method::POST, NEW_TOKEN, 202),
        (Method::POST, OLD_READ, 401),
        (Method::POST, NEW_READ, 401),
        (Method::POST, &both, 401),
        (Method::POST, "wrong-token", 401),
        (Method::GET, OLD_READ, 200),
        (Method::GET, NEW_READ, 200),
        (Method::GET, API_TOKEN, 200),
        (Method::GET, NEW_TOKEN, 200),
        (Method::GET, "wrong-token", 401),
    ];
    let runs = format!("{}/rest/v1/billing/runs", app.address);
    for (method, token, status) in cases {
        let response = app
            .client
            .request(method.clone(), &runs)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{method} with {token}");
    }

    for token in [API_TOKEN, NEW_TOKEN] {
        let operator = Browser::sign_in(app, token).await;
        assert!(
            operator
                .page("/console")
                .await
                .contains(r#"id="start-run""#)
        );
    }
    for token in [OLD_READ, NEW_READ] {
        let viewer = Browser::sign_in(app, token).await;
        assert!(!viewer.page("/console").await.contains(r#"id="start-run""#));
    }
}
