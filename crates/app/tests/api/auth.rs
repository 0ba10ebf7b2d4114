use serde_json::Value;

use crate::helpers::{API_TOKEN, assert_problem, spawn_app_with};

const RUNS: &str = "/rest/v1/billing/runs";

fn backends() -> [antaeus_data::Backend; 2] {
    [
        antaeus_data::Backend::Sqlite,
        antaeus_data::Backend::Postgres,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutating_endpoints_need_the_token_as_bearer_or_api_key() {
    for backend in backends() {
        let Some(app) = spawn_app_with(backend, &[]).await else {
            continue;
        };
        let url = format!("{}{RUNS}", app.address);
        for (name, value) in [
            (None, None),
            (Some("authorization"), Some("Bearer wrong-token")),
            (Some("x-api-key"), Some("wrong-token")),
            (Some("authorization"), Some(API_TOKEN)),
            (Some("authorization"), Some("Basic dGVzdA==")),
        ] {
            let mut request = app.client.post(&url);
            if let (Some(name), Some(value)) = (name, value) {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            assert!(
                response.headers()["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Bearer")
            );
            let problem = assert_problem(response, 401).await;
            assert!(
                !problem.to_string().contains(API_TOKEN),
                "the token never echoes back"
            );
        }
        for (name, value) in [
            ("authorization", format!("Bearer {API_TOKEN}")),
            ("authorization", format!("bearer {API_TOKEN}")),
            ("x-api-key", API_TOKEN.to_owned()),
        ] {
            let response = app
                .client
                .post(&url)
                .header(name, value)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 202, "{name}");
        }
        let retry = app
            .client
            .post(format!("{}/rest/v1/invoices/1/retry", app.address))
            .send()
            .await
            .unwrap();
        assert_problem(retry, 401).await;
        // Reads stay open, as in the original API.
        assert_eq!(app.get(RUNS).await.status(), 200);
        assert_eq!(app.get("/rest/v1/invoices/1").await.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_configured_token_mutations_are_forbidden_and_say_how_to_configure_one() {
    let app = spawn_app_with(antaeus_data::Backend::Sqlite, &[("ANTAEUS_API_TOKEN", "")])
        .await
        .unwrap();
    for path in [
        RUNS,
        "/rest/v1/invoices/1/retry",
        "/rest/v1/events/evt_1/redeliver",
        "/rest/v1/customers",
        "/rest/v1/invoices",
        "/rest/v1/invoices/batch",
        "/rest/v1/invoices/1/void",
    ] {
        let response = app
            .client
            .post(format!("{}{path}", app.address))
            .header("x-api-key", "anything")
            .send()
            .await
            .unwrap();
        let problem = assert_problem(response, 403).await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("ANTAEUS_API_TOKEN"),
            "{path}: {problem}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_token_guards_reads_but_not_health() {
    let read = "read-token-abcdef";
    let app = spawn_app_with(
        antaeus_data::Backend::Sqlite,
        &[("ANTAEUS_READ_TOKEN", read)],
    )
    .await
    .unwrap();
    for path in [
        "/rest/v1/invoices",
        "/rest/v1/customers/1",
        RUNS,
        "/rest/v1/invoices/1/attempts",
        "/metrics",
    ] {
        assert_problem(app.get(path).await, 401).await;
        for token in [read, API_TOKEN] {
            let response = app
                .client
                .get(format!("{}{path}", app.address))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
        }
    }
    assert_eq!(app.get("/rest/health").await.status(), 200);
    assert_eq!(app.get("/rest/health/ready").await.status(), 200);
    let _: Value = app.get("/openapi.json").await.json().await.unwrap();
}
