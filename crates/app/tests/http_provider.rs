//! Black-box tests of the `http` payment provider: local servers answer each row of the
//! protocol's response table (`payment-provider-http.md`) and the adapter must map it; then a
//! round trip through `serve_simulator` proves a resent key never charges twice.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use antaeus_app::provider::{
    HttpPaymentProvider, HttpProviderConfig, Outcome, OutcomeMix, SimulatedPaymentProvider,
    SimulationProfile, serve_simulator,
};
use antaeus_core::{ChargeDecision, ChargeRequest, PaymentProvider, ProviderError};
use antaeus_models::Money;
use antaeus_models::{Currency, CustomerId, IdempotencyKey, Invoice, InvoiceId, InvoiceStatus};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request a fake provider received.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Recorded {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A local server that answers every request with one status and body, after `delay`.
struct FakeProvider {
    base_url: String,
    requests: Arc<Mutex<Vec<Recorded>>>,
}

impl FakeProvider {
    fn start(status: u16, body: &'static str, delay: Duration) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let listener = local_listener();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            let seen = seen.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body_in: web::Bytes| {
                seen.lock().unwrap().push(record(&req, &body_in));
                async move {
                    tokio::time::sleep(delay).await;
                    let status = actix_web::http::StatusCode::from_u16(status).unwrap();
                    HttpResponse::build(status)
                        .insert_header(("Location", "/elsewhere"))
                        .content_type("application/json")
                        .body(body)
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { base_url, requests }
    }

    fn answering(status: u16, body: &'static str) -> Self {
        Self::start(status, body, Duration::ZERO)
    }

    fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

fn record(req: &HttpRequest, body: &[u8]) -> Recorded {
    Recorded {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        headers: req
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("<binary>").to_owned()))
            .collect(),
        body: body.to_vec(),
    }
}

fn local_listener() -> TcpListener {
    TcpListener::bind("127.0.0.1:0").expect("bind a local port")
}

fn provider(base_url: &str, token: Option<&str>, timeout: Duration) -> HttpPaymentProvider {
    HttpPaymentProvider::new(HttpProviderConfig {
        base_url: base_url.to_owned(),
        timeout,
        token: token.map(Into::into),
    })
    .expect("a valid provider config")
}

fn invoice(id: i64) -> Invoice {
    Invoice::new(
        InvoiceId::new(id).unwrap(),
        CustomerId::new(3).unwrap(),
        Money::from_minor(12_345, Currency::EUR).unwrap(),
        InvoiceStatus::Pending,
    )
}

fn key(text: &str) -> IdempotencyKey {
    IdempotencyKey::parse(text).unwrap()
}

/// The variant of an answer, without its details.
fn kind(answer: &Result<ChargeDecision, ProviderError>) -> &'static str {
    match answer {
        Ok(ChargeDecision::Charged { .. }) => "charged",
        Ok(ChargeDecision::Declined { .. }) => "declined",
        Ok(ChargeDecision::CustomerNotFound) => "customer_not_found",
        Ok(ChargeDecision::CurrencyMismatch) => "currency_mismatch",
        Ok(ChargeDecision::AmountNotChargeable { .. }) => "amount_not_chargeable",
        Err(ProviderError::Unauthorized(_)) => "unauthorized",
        Err(ProviderError::Network(_)) => "network",
        Err(ProviderError::Unavailable { .. }) => "unavailable",
        Err(ProviderError::Timeout) => "timeout",
        Err(ProviderError::InProgress) => "in_progress",
        Err(ProviderError::IdempotencyKeyReused) => "key_reused",
        Err(ProviderError::Protocol(_)) => "protocol",
        Err(ProviderError::Processing { .. }) => "processing",
    }
}

const TIMEOUT: Duration = Duration::from_secs(5);
const CHARGED: &str = r#"{"status":"charged","charge_id":"ch_1"}"#;
const JSON: &str = "Content-Type: application/json\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_posts_the_protocol_request_with_the_token() {
    let fake = FakeProvider::answering(200, CHARGED);
    let http = provider(&format!("{}/", fake.base_url), Some("s3cret"), TIMEOUT);

    let answer = http
        .charge(&ChargeRequest::new(invoice(17), key("antaeus-17-0")))
        .await;

    let charge_id = "ch_1".to_owned();
    assert_eq!(answer, Ok(ChargeDecision::Charged { charge_id }));
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(
        (sent.method.as_str(), sent.path.as_str()),
        ("POST", "/charges")
    );
    assert_eq!(sent.header("content-type"), Some("application/json"));
    assert_eq!(sent.header("idempotency-key"), Some("antaeus-17-0"));
    assert_eq!(sent.header("authorization"), Some("Bearer s3cret"));
    let body = String::from_utf8(sent.body.clone()).unwrap();
    assert!(body.contains(r#""amount":"123.45""#), "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    let expected =
        json!({"invoice_id": 17, "customer_id": 3, "amount": "123.45", "currency": "EUR"});
    assert_eq!(body, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_no_authorization_header_is_sent() {
    let fake = FakeProvider::answering(200, CHARGED);
    let http = provider(&fake.base_url, None, TIMEOUT);

    http.charge(&ChargeRequest::new(invoice(17), key("k-1")))
        .await
        .unwrap();

    let sent = &fake.requests()[0];
    assert_eq!(sent.header("authorization"), None);
    assert_eq!(sent.header("idempotency-key"), Some("k-1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_url_with_a_path_keeps_it() {
    let fake = FakeProvider::answering(200, CHARGED);
    let http = provider(&format!("{}/api/v1/", fake.base_url), None, TIMEOUT);

    http.charge(&ChargeRequest::new(invoice(17), key("k-1")))
        .await
        .unwrap();

    assert_eq!(fake.requests()[0].path, "/api/v1/charges");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_status_of_the_response_table_maps_to_its_outcome() {
    let table: &[(u16, &'static str, &str)] = &[
        (200, CHARGED, "charged"),
        (402, r#"{"error":"declined"}"#, "declined"),
        (
            404,
            r#"{"error":"customer_not_found"}"#,
            "customer_not_found",
        ),
        (409, r#"{"error":"currency_mismatch"}"#, "currency_mismatch"),
        (409, r#"{"error":"request_in_progress"}"#, "in_progress"),
        (422, r#"{"error":"idempotency_key_reused"}"#, "key_reused"),
        (429, r#"{"error":"slow down"}"#, "unavailable"),
        (500, "oops", "unavailable"),
        (502, "", "unavailable"),
        (503, r#"{"error":"unavailable"}"#, "unavailable"),
        (504, "", "unavailable"),
        (400, r#"{"error":"bad_request"}"#, "protocol"),
        (401, r#"{"error":"unauthorized"}"#, "unauthorized"),
        (403, "<html>Forbidden</html>", "unauthorized"),
        (404, "<html>Not Found</html>", "protocol"),
        (409, r#"{"error":"conflict"}"#, "protocol"),
        (200, "garbage", "protocol"),
        (200, r#"{"status":"failed"}"#, "protocol"),
        (201, CHARGED, "protocol"),
        (301, "", "protocol"),
    ];
    for &(status, body, expected) in table {
        let fake = FakeProvider::answering(status, body);
        let http = provider(&fake.base_url, None, TIMEOUT);
        let answer = http
            .charge(&ChargeRequest::new(invoice(17), key("k-1")))
            .await;
        assert_eq!(kind(&answer), expected, "{status} {body}: {answer:?}");
        // A redirect is an answer, not an instruction: nothing is resent elsewhere.
        assert_eq!(fake.requests().len(), 1, "{status} {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_slower_than_the_timeout_is_a_timeout() {
    let fake = FakeProvider::start(200, CHARGED, Duration::from_secs(3));
    let http = provider(&fake.base_url, None, Duration::from_millis(200));

    let started = Instant::now();
    let answer = http
        .charge(&ChargeRequest::new(invoice(17), key("k-1")))
        .await;

    assert_eq!(answer, Err(ProviderError::Timeout));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

/// A raw TCP server that reads one request per connection and answers `reply` (then holds or
/// drops the socket).
async fn raw_server(reply: &[u8], hold: bool) -> String {
    scripted_server(vec![(reply.to_vec(), hold)]).await
}

/// A raw TCP server that answers its n-th connection as `script[n]` says (the last entry
/// answers every later one): the bytes to write, then whether to hold the socket open.
async fn scripted_server(script: Vec<(Vec<u8>, bool)>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut connection = 0;
        while let Ok((mut socket, _)) = listener.accept().await {
            let (reply, hold) = script[connection.min(script.len() - 1)].clone();
            connection += 1;
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(&reply).await;
                if hold {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
            });
        }
    });
    address
}

/// A complete HTTP/1.1 answer: `status` (e.g. `402 Payment Required`), `headers` (each line
/// ending in CRLF) and `body`, with its length.
fn http_answer(status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_200_whose_body_never_arrives_is_a_timeout_not_a_protocol_error() {
    let head: &[u8] =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{";
    let base_url = raw_server(head, true).await;
    let http = provider(&base_url, None, Duration::from_millis(300));

    let answer = http
        .charge(&ChargeRequest::new(invoice(17), key("k-1")))
        .await;

    assert_eq!(answer, Err(ProviderError::Timeout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_closed_without_an_answer_is_a_network_error() {
    let base_url = raw_server(b"", false).await;
    let http = provider(&base_url, None, TIMEOUT);

    let answer = http
        .charge(&ChargeRequest::new(invoice(17), key("k-1")))
        .await;

    assert_eq!(kind(&answer), "network", "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_port_is_a_network_error_that_never_shows_the_token() {
    let port = local_listener().local_addr().unwrap().port();
    let http = provider(&format!("http://127.0.0.1:{port}"), Some("s3cret"), TIMEOUT);

    let answer = http
        .charge(&ChargeRequest::new(invoice(17), key("k-1")))
        .await;

    let Err(ProviderError::Network(message)) = answer else {
        panic!("expected a network error, got {answer:?}");
    };
    assert!(!message.contains("s3cret"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_402_is_a_decline_only_when_the_provider_says_so() {
    // The provider charged but its answer never came; the resend under the same key is answered
    // by something in between (a gateway, a proxy, a suspended account page) with a 402 that is
    // not the protocol's. Taking it as a decline would advance the key and charge again.
    let not_the_providers = [
        (
            "Content-Type: text/html\r\n",
            "<html><h1>Payment Required</h1></html>",
        ),
        (JSON, r#"{"error":"account_suspended"}"#),
        (JSON, r#"{"message":"Payment Required"}"#),
        (JSON, r#"{"error":{"code":"declined"}}"#),
        ("", ""),
    ];
    for (headers, body) in not_the_providers {
        let proxy_402 = http_answer("402 Payment Required", headers, body);
        let base_url = scripted_server(vec![(Vec::new(), true), (proxy_402, false)]).await;
        let http = provider(&base_url, None, Duration::from_millis(300));

        let first = http
            .charge(&ChargeRequest::new(invoice(17), key("antaeus-17-0")))
            .await;
        let resend = http
            .charge(&ChargeRequest::new(invoice(17), key("antaeus-17-0")))
            .await;

        let shown = format!("402 {body:?}");
        assert_eq!(first, Err(ProviderError::Timeout), "{shown}");
        assert!(
            !matches!(resend, Ok(ChargeDecision::Declined { .. })),
            "{shown}"
        );
        assert_eq!(kind(&resend), "protocol", "{shown}: {resend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_with_retry_after_reaches_the_client_with_its_wait() {
    let base_url = raw_server(
        &http_answer(
            "429 Too Many Requests",
            "Retry-After: 2\r\n",
            r#"{"error":"slow down"}"#,
        ),
        false,
    )
    .await;
    let http = provider(&base_url, None, TIMEOUT);

    let answer = http
        .charge(&ChargeRequest::new(invoice(17), key("k-1")))
        .await;

    assert_eq!(
        answer,
        Err(ProviderError::Unavailable {
            status: 429,
            retry_after: Some(Duration::from_secs(2)),
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_retry_after_date_is_a_wait_from_now_and_garbage_is_ignored() {
    let in_two_minutes = (chrono::Utc::now() + chrono::TimeDelta::seconds(120))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let header = format!("Retry-After: {in_two_minutes}\r\n");
    let base_url = raw_server(&http_answer("503 Service Unavailable", &header, ""), false).await;
    let http = provider(&base_url, None, TIMEOUT);

    let answer = http
        .charge(&ChargeRequest::new(invoice(17), key("k-1")))
        .await;

    let Err(ProviderError::Unavailable {
        status: 503,
        retry_after: Some(wait),
    }) = answer
    else {
        panic!("expected a 503 with a wait, got {answer:?}");
    };
    assert!(
        (Duration::from_secs(115)..=Duration::from_secs(120)).contains(&wait),
        "{wait:?}"
    );

    let base_url = raw_server(
        &http_answer("502 Bad Gateway", "Retry-After: soon\r\n", ""),
        false,
    )
    .await;
    let answer = provider(&base_url, None, TIMEOUT)
        .charge(&ChargeRequest::new(invoice(17), key("k-1")))
        .await;
    assert_eq!(
        answer,
        Err(ProviderError::Unavailable {
            status: 502,
            retry_after: None,
        })
    );
}

/// The simulator on a local port, with no latency, and its address.
fn start_simulator(
    outcome: Outcome,
    token: Option<&str>,
) -> (Arc<SimulatedPaymentProvider>, String) {
    let simulated = Arc::new(SimulatedPaymentProvider::new(SimulationProfile {
        outcomes: OutcomeMix::always(outcome),
        latency: Duration::ZERO,
        jitter: Duration::ZERO,
        seed: 7,
    }));
    let listener = local_listener();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let server = serve_simulator(listener, simulated.clone(), token.map(Into::into)).unwrap();
    tokio::spawn(server);
    (simulated, base_url)
}

async fn ledger(base_url: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(format!("{base_url}/ledger"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resent_key_is_charged_once_through_the_simulator() {
    let (simulated, base_url) = start_simulator(Outcome::Charged, Some("sim-token"));
    let http = provider(&base_url, Some("sim-token"), TIMEOUT);

    let first = http
        .charge(&ChargeRequest::new(invoice(17), key("antaeus-17-0")))
        .await;
    let again = http
        .charge(&ChargeRequest::new(invoice(17), key("antaeus-17-0")))
        .await;

    assert_eq!(kind(&first), "charged", "{first:?}");
    assert_eq!(first, again, "the resend replays the same charge");
    let body: Value = ledger(&base_url, Some("sim-token"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body, json!({"calls": 2, "charges": 1, "doubleCharged": []}));
    let summary = simulated.summary();
    assert_eq!((summary.calls, summary.charges), (2, 1));
    assert!(summary.double_charged.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_lost_after_charging_is_unknown_and_the_resend_charges_nothing() {
    let (simulated, base_url) = start_simulator(Outcome::NetworkErrorAfter, None);
    let http = provider(&base_url, None, TIMEOUT);

    let first = http
        .charge(&ChargeRequest::new(invoice(9), key("antaeus-9-0")))
        .await;
    assert_eq!(kind(&first), "unavailable", "{first:?}");
    let body: Value = ledger(&base_url, None).await.json().await.unwrap();
    assert_eq!(
        body["charges"], 1,
        "the provider charged before the answer was lost"
    );

    let resend = http
        .charge(&ChargeRequest::new(invoice(9), key("antaeus-9-0")))
        .await;
    assert_eq!(kind(&resend), "unavailable", "{resend:?}");
    let body: Value = ledger(&base_url, None).await.json().await.unwrap();
    assert_eq!(body, json!({"calls": 2, "charges": 1, "doubleCharged": []}));
    assert_eq!(simulated.charges_of(InvoiceId::new(9).unwrap()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_simulated_outcome_reaches_the_client_as_the_protocol_says() {
    let table = [
        (Outcome::Charged, "charged", 1),
        (Outcome::Declined, "declined", 0),
        (Outcome::CustomerNotFound, "customer_not_found", 0),
        (Outcome::CurrencyMismatch, "currency_mismatch", 0),
        (Outcome::NetworkErrorBefore, "unavailable", 0),
        (Outcome::NetworkErrorAfter, "unavailable", 1),
        (Outcome::Timeout, "unavailable", 1),
    ];
    for (outcome, expected, charges) in table {
        let (simulated, base_url) = start_simulator(outcome, None);
        let http = provider(&base_url, None, TIMEOUT);
        let answer = http
            .charge(&ChargeRequest::new(invoice(5), key("k-5")))
            .await;
        assert_eq!(kind(&answer), expected, "{outcome:?}: {answer:?}");
        assert_eq!(simulated.summary().charges, charges, "{outcome:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_charges_share_one_client_and_charge_each_invoice_once() {
    let (simulated, base_url) = start_simulator(Outcome::Charged, None);
    let http = provider(&base_url, None, TIMEOUT);

    let tasks: Vec<_> = (1..=40)
        .map(|id| {
            let http = http.clone();
            tokio::spawn(async move {
                http.charge(&ChargeRequest::new(invoice(id), key(&format!("k-{id}"))))
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(kind(&task.await.unwrap()), "charged");
    }

    let summary = simulated.summary();
    assert_eq!((summary.calls, summary.charges), (40, 40));
    assert!(summary.double_charged.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_refuses_requests_without_its_token() {
    let (simulated, base_url) = start_simulator(Outcome::Charged, Some("sim-token"));

    for token in [None, Some("wrong")] {
        let http = provider(&base_url, token, TIMEOUT);
        let answer = http
            .charge(&ChargeRequest::new(invoice(5), key("k-5")))
            .await;
        assert_eq!(kind(&answer), "unauthorized", "{token:?}: {answer:?}");
        let Err(ProviderError::Unauthorized(why)) = &answer else {
            unreachable!()
        };
        assert!(why.contains("ANTAEUS_PROVIDER_TOKEN"), "{why}");
        assert!(!why.contains("wrong"), "the token is never shown: {why}");
        assert_eq!(ledger(&base_url, token).await.status(), 401, "{token:?}");
    }
    assert_eq!(simulated.summary().calls, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_answers_400_to_malformed_requests() {
    let (simulated, base_url) = start_simulator(Outcome::Charged, None);
    let valid = r#"{"invoice_id":5,"customer_id":3,"amount":"123.45","currency":"EUR"}"#;
    let cases: [(Option<&str>, &str, &str); 10] = [
        (Some("k"), "{not json", "bad JSON"),
        (None, valid, "no key"),
        (Some("a b"), valid, "a key with a space"),
        (
            Some("k"),
            r#"{"invoice_id":5,"customer_id":3,"amount":"1.00","currency":"JPY"}"#,
            "currency",
        ),
        (
            Some("k"),
            r#"{"invoice_id":5,"customer_id":3,"amount":123.45,"currency":"EUR"}"#,
            "float",
        ),
        (
            Some("k"),
            r#"{"invoice_id":5,"customer_id":3,"amount":"12.345","currency":"EUR"}"#,
            "sub-cent",
        ),
        (
            Some("k"),
            r#"{"invoice_id":5,"customer_id":3,"amount":"-1","currency":"EUR"}"#,
            "negative",
        ),
        (
            Some("k"),
            r#"{"invoice_id":5,"customer_id":3,"amount":"1e3","currency":"EUR"}"#,
            "exponent",
        ),
        (
            Some("k"),
            r#"{"invoice_id":0,"customer_id":3,"amount":"1.00","currency":"EUR"}"#,
            "id 0",
        ),
        (
            Some("k"),
            r#"{"invoice_id":5,"amount":"1.00","currency":"EUR"}"#,
            "no customer",
        ),
    ];
    let client = reqwest::Client::new();
    for (key, body, what) in cases {
        let mut request = client
            .post(format!("{base_url}/charges"))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.header("Idempotency-Key", key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400, "{what}");
        let error: Value = response.json().await.unwrap();
        assert!(
            error["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{what}: {error}"
        );
    }
    let not_json = client
        .post(format!("{base_url}/charges"))
        .header("Idempotency-Key", "k")
        .header("Content-Type", "text/plain")
        .body(valid);
    assert_eq!(not_json.send().await.unwrap().status(), 400);
    assert_eq!(
        simulated.summary().calls,
        0,
        "nothing malformed reached the provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_answers_422_to_a_key_reused_with_another_body() {
    let (simulated, base_url) = start_simulator(Outcome::Charged, None);
    let client = reqwest::Client::new();
    let charge = |body: &'static str| {
        client
            .post(format!("{base_url}/charges"))
            .header("Idempotency-Key", "antaeus-5-0")
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    let body = r#"{"invoice_id":5,"customer_id":3,"amount":"123.45","currency":"EUR"}"#;

    let first = charge(body).await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "charged", "{first}");

    for other in [
        r#"{"invoice_id":5,"customer_id":3,"amount":"999.00","currency":"EUR"}"#,
        r#"{"invoice_id":6,"customer_id":3,"amount":"123.45","currency":"EUR"}"#,
        r#"{"invoice_id":5,"customer_id":4,"amount":"123.45","currency":"EUR"}"#,
        r#"{"invoice_id":5,"customer_id":3,"amount":"123.45","currency":"USD"}"#,
    ] {
        let reused = charge(other).await.unwrap();
        assert_eq!(reused.status(), 422, "{other}");
        let error: Value = reused.json().await.unwrap();
        assert_eq!(error, json!({"error": "idempotency_key_reused"}), "{other}");
    }

    let again = charge(body).await.unwrap();
    assert_eq!(
        again.status(),
        200,
        "the same body under the key is a resend"
    );
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let summary = simulated.summary();
    assert_eq!(
        (summary.calls, summary.charges),
        (2, 1),
        "refused before the provider"
    );
    assert!(summary.double_charged.is_empty());
}
