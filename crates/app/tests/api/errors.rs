use reqwest::Method;

use crate::api_tests;
use crate::helpers::{TestApp, assert_problem};

api_tests!(
    unsupported_methods_are_405_with_allow,
    unknown_paths_are_404_problems,
);

async fn unsupported_methods_are_405_with_allow(app: TestApp) {
    for (method, path) in [
        (Method::POST, "/rest/v1/invoices"),
        (Method::DELETE, "/rest/v1/invoices/1"),
        (Method::PUT, "/rest/v1/customers/1"),
        (Method::PATCH, "/rest/v1/customers"),
        (Method::POST, "/rest/health"),
    ] {
        let response = app.request(method.clone(), path).await;
        assert_eq!(response.headers()["allow"], "GET", "{method} {path}");
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
