use std::collections::BTreeSet;

use antaeus_rest::ROUTES;
use serde_json::Value;

use crate::api_tests;
use crate::helpers::TestApp;

api_tests!(
    readiness_reports_a_reachable_migrated_database,
    metrics_expose_charges_runs_invoices_breaker_outbox_dead_events_and_http_requests,
    the_openapi_document_describes_every_registered_route,
);

async fn readiness_reports_a_reachable_migrated_database(app: TestApp) {
    let response = app.get("/rest/health/ready").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "\"ready\"");
}

async fn metrics_expose_charges_runs_invoices_breaker_outbox_dead_events_and_http_requests(
    app: TestApp,
) {
    app.bill().await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    for needle in [
        "antaeus_charges_total{outcome=\"charged\"}",
        "antaeus_charge_duration_seconds_bucket",
        "antaeus_runs_started_total",
        "antaeus_runs_completed_total{status=\"COMPLETED\"}",
        "antaeus_invoices{status=\"PAID\"}",
        "antaeus_circuit_breaker_state",
        "antaeus_outbox_backlog",
        "antaeus_outbox_dead_events",
        "antaeus_http_requests_total{method=\"POST\",route=\"/rest/v1/billing/runs\",status=\"202\"}",
        "route=\"/rest/v1/billing/runs/{id}\"",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
}

async fn the_openapi_document_describes_every_registered_route(app: TestApp) {
    let doc: Value = app.get("/openapi.json").await.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    let mut missing = BTreeSet::new();
    for (path, methods) in ROUTES {
        for method in *methods {
            if paths
                .get(*path)
                .and_then(|p| p.get(method.to_lowercase()))
                .is_none()
            {
                missing.insert(format!("{method} {path}"));
            }
        }
        // And the server really serves it: an unregistered path answers "no resource at …".
        let response = app
            .request(
                reqwest::Method::from_bytes(methods[0].as_bytes()).unwrap(),
                &path.replace("{id}", "1"),
            )
            .await;
        let body = response.text().await.unwrap();
        assert!(
            !body.contains("no resource at"),
            "{path} is in the route table but not served"
        );
    }
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document: {missing:?}"
    );
    let schemes = &doc["components"]["securitySchemes"];
    assert!(schemes["bearer"].is_object() && schemes["api_key"]["name"] == "x-api-key");
}
