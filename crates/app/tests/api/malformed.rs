//! A table of malformed requests: each gets a 4xx with a problem body, never a 5xx.

use reqwest::Method;

use crate::api_tests;
use crate::helpers::{API_TOKEN, TestApp, assert_problem};

api_tests!(malformed_requests_get_a_4xx_problem_and_never_a_5xx);

struct Case {
    method: Method,
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
}

fn case(method: Method, path: &'static str, status: u16) -> Case {
    Case {
        method,
        path,
        headers: Vec::new(),
        body: Vec::new(),
        status,
    }
}

/// A POST to the trigger with the token and `body`.
fn trigger(body: &[u8], status: u16) -> Case {
    Case {
        headers: vec![("x-api-key", API_TOKEN.into())],
        body: body.to_vec(),
        ..case(Method::POST, "/rest/v1/billing/runs", status)
    }
}

/// A write with the token and `body`.
fn write(method: Method, path: &'static str, body: &[u8], status: u16) -> Case {
    Case {
        headers: vec![("x-api-key", API_TOKEN.into())],
        body: body.to_vec(),
        ..case(method, path, status)
    }
}

/// A `POST /rest/v1/invoices` for customer 1 with `value` as the amount's value.
fn invoice_with_value(value: &str, status: u16) -> Case {
    let body = format!(r#"{{"customerId":1,"amount":{{"value":{value},"currency":"EUR"}}}}"#);
    write(Method::POST, "/rest/v1/invoices", body.as_bytes(), status)
}

/// The bodies of the create and update endpoints.
fn invoicing_cases() -> Vec<Case> {
    let post = |path, body: &[u8], status| write(Method::POST, path, body, status);
    let patch = |path, body: &[u8], status| write(Method::PATCH, path, body, status);
    let too_big = vec![b' '; 2 * 1024 * 1024];
    let many = format!(
        "[{}]",
        vec![r#"{"customerId":1,"amount":{"value":"1.00","currency":"EUR"}}"#; 1_001].join(",")
    );
    vec![
        post("/rest/v1/customers", b"", 400),
        post("/rest/v1/customers", b"{", 400),
        post("/rest/v1/customers", b"[]", 400),
        post("/rest/v1/customers", b"\"EUR\"", 400),
        post("/rest/v1/customers", b"{}", 400),
        post("/rest/v1/customers", br#"{"currency":"XXX"}"#, 400),
        post("/rest/v1/customers", br#"{"currency":"EUR","externalId":""}"#, 400),
        post("/rest/v1/customers", br#"{"currency":"EUR","name":{"first":"A"}}"#, 400),
        post("/rest/v1/customers", br#"{"currency":"EUR","colour":"blue"}"#, 400),
        post("/rest/v1/customers", br#"{"currency":"EUR","email":"x\u0000@y"}"#, 400),
        post("/rest/v1/customers", &[0xff, 0xfe, 0x00], 400),
        post("/rest/v1/customers", &too_big, 413),
        with_header(
            post("/rest/v1/customers", br#"{"currency":"EUR"}"#, 400),
            "idempotency-key",
            "a".repeat(300),
        ),
        case(Method::POST, "/rest/v1/customers", 401),
        patch("/rest/v1/customers/abc", b"{}", 400),
        patch("/rest/v1/customers/999999", b"{}", 404),
        patch("/rest/v1/customers/1", b"{", 400),
        patch("/rest/v1/customers/1", br#"{"currency":null}"#, 400),
        patch("/rest/v1/customers/1", br#"{"externalId":"x"}"#, 400),
        patch("/rest/v1/customers/1", br#"{"provider":[]}"#, 400),
        patch("/rest/v1/customers/1", &too_big, 413),
        case(Method::PATCH, "/rest/v1/customers/1", 401),
        case(Method::DELETE, "/rest/v1/customers/1", 405),
        invoice_with_value("0", 400),
        invoice_with_value("-1", 400),
        invoice_with_value("1.234", 400),
        invoice_with_value("1e400", 400),
        invoice_with_value("\"1e2\"", 400),
        invoice_with_value("\"abc\"", 400),
        invoice_with_value("\"\"", 400),
        invoice_with_value("[]", 400),
        invoice_with_value("{}", 400),
        invoice_with_value("null", 400),
        invoice_with_value(&"9".repeat(500), 400),
        invoice_with_value("92233720368547758.08", 400),
        post("/rest/v1/invoices", b"{}", 400),
        post("/rest/v1/invoices", b"[]", 400),
        post(
            "/rest/v1/invoices",
            br#"{"customerId":1,"customerExternalId":"a","amount":{"value":"1","currency":"EUR"}}"#,
            400,
        ),
        post(
            "/rest/v1/invoices",
            br#"{"customerId":1,"amount":{"value":"1","currency":"EUR"},"dueAt":"2026-13-01T00:00:00Z"}"#,
            400,
        ),
        post(
            "/rest/v1/invoices",
            br#"{"customerId":1,"amount":{"value":"1","currency":"EUR"},"dueAt":"+275760-09-13T00:00:00Z"}"#,
            400,
        ),
        post(
            "/rest/v1/invoices",
            br#"{"customerId":999999,"amount":{"value":"1","currency":"EUR"}}"#,
            422,
        ),
        post(
            "/rest/v1/invoices",
            br#"{"customerExternalId":"nobody","amount":{"value":"1","currency":"EUR"}}"#,
            422,
        ),
        post("/rest/v1/invoices", &too_big, 413),
        case(Method::POST, "/rest/v1/invoices", 401),
        post("/rest/v1/invoices/batch", b"", 400),
        post("/rest/v1/invoices/batch", b"{}", 400),
        post("/rest/v1/invoices/batch", b"[1,", 400),
        post("/rest/v1/invoices/batch", many.as_bytes(), 413),
        post("/rest/v1/invoices/batch", &vec![b' '; 5 * 1024 * 1024], 413),
        case(Method::POST, "/rest/v1/invoices/batch", 401),
        case(Method::GET, "/rest/v1/invoices/batch", 405),
        post("/rest/v1/invoices/abc/void", b"", 400),
        post("/rest/v1/invoices/999999/void", b"", 404),
        post("/rest/v1/invoices/2/void", b"", 409),
        case(Method::POST, "/rest/v1/invoices/1/void", 401),
        case(Method::GET, "/rest/v1/invoices/1/void", 405),
        case(Method::GET, "/rest/v1/customers?externalId=", 400),
        case(Method::GET, "/rest/v1/customers?externalId=a%20b", 400),
        case(Method::GET, "/rest/v1/invoices?externalId=%00", 400),
        case(Method::GET, "/rest/v1/invoices?status=void", 400),
    ]
}

fn with_header(mut c: Case, name: &'static str, value: String) -> Case {
    c.headers.push((name, value));
    c
}

fn cases() -> Vec<Case> {
    let authed = |mut c: Case| {
        c.headers.push(("x-api-key", API_TOKEN.into()));
        c
    };
    vec![
        case(Method::GET, "/rest/v1/invoices/abc", 400),
        case(Method::GET, "/rest/v1/invoices/0", 400),
        case(Method::GET, "/rest/v1/invoices/-1", 400),
        case(Method::GET, "/rest/v1/invoices/99999999999999999999", 400),
        case(Method::GET, "/rest/v1/invoices/%00", 400),
        case(Method::GET, "/rest/v1/invoices?limit=0", 400),
        case(Method::GET, "/rest/v1/invoices?limit=abc", 400),
        case(Method::GET, "/rest/v1/invoices?limit=1001", 400),
        case(Method::GET, "/rest/v1/invoices?status=paid", 400),
        case(Method::GET, "/rest/v1/invoices?customerId=x", 400),
        case(Method::GET, "/rest/v1/invoices?after=1.5", 400),
        case(Method::GET, "/rest/v1/invoices?limit=1&limit=2", 400),
        case(Method::GET, "/rest/v1/invoices?status=%FF", 400),
        case(Method::GET, "/rest/v1/customers/abc", 400),
        case(Method::GET, "/rest/v1/customers?after=-3", 400),
        case(Method::GET, "/rest/v1/billing/runs/abc", 400),
        case(Method::GET, "/rest/v1/billing/runs?before=x", 400),
        case(Method::GET, "/rest/v1/billing/runs?limit=5000", 400),
        case(Method::GET, "/rest/v1/invoices/abc/attempts", 400),
        authed(case(Method::POST, "/rest/v1/invoices/abc/retry", 400)),
        authed(case(Method::POST, "/rest/v1/invoices/999999/retry", 404)),
        case(Method::GET, "/rest/v1/events?status=DEAD", 400),
        case(Method::GET, "/rest/v1/events?status=failed", 400),
        case(Method::GET, "/rest/v1/events?status=", 400),
        case(Method::GET, "/rest/v1/events?limit=0", 400),
        case(Method::GET, "/rest/v1/events?after=evt_1", 400),
        case(
            Method::GET,
            "/rest/v1/events?status=dead&status=pending",
            400,
        ),
        authed(case(Method::POST, "/rest/v1/events/evt%20x/redeliver", 400)),
        authed(case(
            Method::POST,
            "/rest/v1/events/%C3%A9vt/redeliver",
            400,
        )),
        authed(case(
            Method::POST,
            "/rest/v1/events/evt_nope/redeliver",
            404,
        )),
        case(Method::POST, "/rest/v1/events/evt_nope/redeliver", 401),
        case(Method::GET, "/rest/v1/events/evt_1/redeliver", 405),
        case(Method::DELETE, "/rest/v1/events", 405),
        case(Method::GET, "/rest/v1/events/evt_1", 404),
        trigger(b"{", 400),
        trigger(b"[]", 400),
        trigger(b"\"run\"", 400),
        trigger(b"12", 400),
        trigger(br#"{"idempotencyKey":5}"#, 400),
        trigger(br#"{"idempotencyKey":""}"#, 400),
        trigger(br#"{"idempotencyKey":"has space"}"#, 400),
        trigger(br#"{"idempotencyKey":["a"]}"#, 400),
        trigger(
            br#"{"id":5,"detail-type":"Scheduled Event","source":"aws.events"}"#,
            400,
        ),
        trigger(&[0xff, 0xfe, 0x00], 400),
        trigger(&vec![b' '; 2 * 1024 * 1024], 413),
        with_header(trigger(b"", 400), "idempotency-key", "a".repeat(300)),
        with_header(trigger(b"", 400), "idempotency-key", String::new()),
        case(Method::POST, "/rest/v1/billing/runs", 401),
        with_header(
            case(Method::POST, "/rest/v1/billing/runs", 401),
            "authorization",
            "Bearer nope".into(),
        ),
        case(Method::DELETE, "/rest/v1/billing/runs", 405),
        case(Method::PUT, "/rest/v1/invoices/1", 405),
        case(Method::PATCH, "/rest/v1/invoices/1/retry", 405),
        case(Method::GET, "/rest/v1/invoices/1/retry", 405),
        case(Method::POST, "/rest/health", 405),
        case(Method::GET, "/rest/v1/nope", 404),
        case(Method::GET, "/rest/v1/billing", 404),
    ]
}

async fn malformed_requests_get_a_4xx_problem_and_never_a_5xx(app: TestApp) {
    let mut cases = cases();
    cases.extend(invoicing_cases());
    assert!(cases.len() >= 100);
    for c in cases {
        let mut request = app
            .client
            .request(c.method.clone(), format!("{}{}", app.address, c.path))
            .body(c.body.clone());
        for (name, value) in &c.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        assert!(status < 500, "{} {} answered {status}", c.method, c.path);
        assert_eq!(
            status,
            c.status,
            "{} {} (body {} bytes)",
            c.method,
            c.path,
            c.body.len()
        );
        assert_problem(response, c.status).await;
    }
    // Unknown fields are ignored.
    let lenient = app
        .post(
            "/rest/v1/billing/runs",
            r#"{"idempotencyKey":"lenient","color":"blue"}"#,
            &[],
        )
        .await;
    assert_eq!(lenient.status(), 202);
}
