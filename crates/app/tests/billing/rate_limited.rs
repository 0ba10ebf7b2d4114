//! Drill: a provider that rate limits. For the first part of the run, every third request
//! is answered 429 with `Retry-After: 1` by a limiter in front of the provider (which never sees
//! those requests). The run completes (the breaker does not abort it), nothing is lost, nobody
//! is charged twice, and the resends waited as the provider asked.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use antaeus_data::Backend;
use antaeus_models::InvoiceStatus;

use crate::billing_tests;
use crate::helpers::{
    assert_invariants, bill_env, bill_process, database, seed_due_invoices, serve_provider, settle,
    simulated,
};

billing_tests!(a_provider_rate_limiting_a_third_of_the_calls_slows_the_run_but_never_breaks_it);

const INVOICES: usize = 300;

/// The limiter answers 429 to every third of its first this many requests (a while counted in
/// requests, not seconds, so that a slow machine sees the same drill).
const LIMITED_REQUESTS: u64 = 180;

async fn a_provider_rate_limiting_a_third_of_the_calls_slows_the_run_but_never_breaks_it(
    backend: Backend,
) {
    let Some(test_db) = database(backend).await else {
        return;
    };
    seed_due_invoices(&test_db.db, INVOICES).await;
    let provider = simulated(
        antaeus_app::provider::OutcomeMix::parse("charged=90,declined=10").unwrap(),
        5,
        3,
    );
    let limiter = Limiter::start(serve_provider(provider.clone()));
    let mut env = bill_env(&test_db, &limiter.url);
    // 429s are answered at once while charges take a few milliseconds, so the first calls to
    // end are mostly 429s and the circuit breaker may pause the run for its cool-down: short
    // here, so the drill takes seconds.
    env.push(("ANTAEUS_BREAKER_COOL_DOWN_S", "1".into()));

    let started = Instant::now();
    let output = bill_process(&env).output().await.unwrap();
    let took = started.elapsed();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the run did not complete: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let limited = limiter.limited.load(Ordering::Relaxed);
    assert_eq!(limited, LIMITED_REQUESTS / 3);
    // Nothing lost or doubled after the run: an invoice still rate limited after its resends
    // is PENDING with its outcome unknown and a next attempt (same key).
    let after_run = assert_invariants(&test_db.db, &provider).await;
    assert!(
        took >= Duration::from_secs(1),
        "resends waited for Retry-After: the run took {took:?}"
    );
    // The next runs resend those under their keys; in the end everything has an answer.
    let settled = settle(&test_db.db, &provider, &env).await;
    let ledger = provider.summary();
    assert_eq!(
        settled.by_status[&InvoiceStatus::Paid] as u64,
        ledger.charges
    );
    eprintln!(
        "rate-limit drill ({backend:?}): {INVOICES} invoices, {limited} answered 429, first run {took:.1?} ({} left unknown for a later run), {} provider calls, {} charged in the end",
        after_run.unknown, ledger.calls, ledger.charges
    );
}

/// A rate limiter in front of the provider at `upstream`.
struct Limiter {
    url: String,
    limited: Arc<AtomicU64>,
}

impl Limiter {
    fn start(upstream: String) -> Self {
        let limited = Arc::new(AtomicU64::new(0));
        let state = web::Data::new(LimiterState {
            upstream,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            requests: AtomicU64::new(0),
            limited: limited.clone(),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .default_service(web::to(forward))
        })
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { url, limited }
    }
}

struct LimiterState {
    upstream: String,
    client: reqwest::Client,
    requests: AtomicU64,
    limited: Arc<AtomicU64>,
}

async fn forward(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<LimiterState>,
) -> HttpResponse {
    let n = state.requests.fetch_add(1, Ordering::Relaxed);
    if n % 3 == 2 && n < LIMITED_REQUESTS {
        state.limited.fetch_add(1, Ordering::Relaxed);
        return HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", "1"))
            .json(serde_json::json!({"error": "rate_limited"}));
    }
    let mut upstream = state
        .client
        .post(format!("{}{}", state.upstream, req.path()))
        .body(body.to_vec());
    for (name, value) in req.headers() {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name.as_str(), value.as_bytes());
        }
    }
    match upstream.send().await {
        Ok(answer) => {
            let status = answer.status().as_u16();
            let body = answer.bytes().await.unwrap_or_default();
            HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                .content_type("application/json")
                .body(body)
        }
        Err(_) => HttpResponse::BadGateway().finish(),
    }
}
