use reqwest::Method;

use crate::api_tests;
use crate::helpers::{TestApp, assert_problem};

api_tests!(
    unsupported_methods_are_405_with_allow,
    unknown_paths_are_404_problems,
);

async fn unsupported_methods_are_405_with_allow(app: TestApp) {
    for (method, path, allow) in [
        (Method::DELETE, "/rest/v1/invoices", "GET, POST"),
        (Method::DELETE, "/rest/v1/invoices/1", "GET"),
        (Method::PUT, "/rest/v1/customers/1", "GET, PATCH"),
        (Method::PATCH, "/rest/v1/customers", "GET, POST"),
        (Method::GET, "/rest/v1/invoices/batch", "POST"),
        (Method::GET, "/rest/v1/invoices/1/void", "POST"),
        (Method::POST, "/rest/health", "GET"),
    ] {
        let response = app.request(method.clone(), path).await;
        assert_eq!(response.headers()["allow"], allow, "{method} {path}");
        assert_problem(response, 405).await;
    }
}

async fn unknown_paths_are_404_problems(app: TestApp) {
    for path in [
        "/",
        "/rest",
        "/rest/v2/invoices",
        "/rest/v1/invoices/1/nope",
        "/rest/v1/invoices/",
    ] {
        assert_problem(app.get(path).await, 404).await;
    }
}
