//! A Stripe-shaped local server for what localstripe lacks: idempotency keys honoured for 24
//! hours of an injectable clock (answers replayed, 409 while a key is in flight, 400
//! `idempotency_error` for other parameters), scripted or random faults, processing
//! PaymentIntents and the search API; its ledger counts the charges per invoice.

mod ledger;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use antaeus_core::Clock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

pub use ledger::{Answer, Card, Fault, Intent, KEY_RETENTION, Ledger};

/// Faults drawn at random for each create request, in percent.
#[derive(Debug, Clone, Copy)]
pub struct Hostility {
    pub rate_limited: u32,
    pub error_before: u32,
    pub slow_answer: u32,
    pub seed: u64,
}

/// The server's shared state.
pub struct State {
    clock: Arc<dyn Clock>,
    ledger: Mutex<Ledger>,
    faults: Mutex<VecDeque<Fault>>,
    random: Mutex<Option<(Hostility, StdRng)>>,
    /// The `Stripe-Version` headers seen.
    versions: Mutex<Vec<String>>,
    /// How long a slow answer waits.
    slow: std::time::Duration,
    /// Stripe's own rate limit: most create requests in any second, and the last second's.
    limit: Mutex<Option<(usize, VecDeque<std::time::Instant>)>>,
    /// Refund requests whose answer is lost (processed, answered too late), still to come.
    lost_refunds: Mutex<u32>,
}

/// A running fake Stripe.
#[derive(Clone)]
pub struct FakeStripe {
    pub url: String,
    state: Arc<State>,
}

impl FakeStripe {
    /// Starts the server on a free port; keys are judged by `clock`.
    pub fn start(clock: Arc<dyn Clock>) -> Self {
        let state = Arc::new(State {
            clock,
            ledger: Mutex::new(Ledger::default()),
            faults: Mutex::new(VecDeque::new()),
            random: Mutex::new(None),
            versions: Mutex::new(Vec::new()),
            slow: std::time::Duration::from_millis(600),
            limit: Mutex::new(None),
            lost_refunds: Mutex::new(0),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route("/v1/payment_intents", web::post().to(create))
                .route("/v1/payment_intents/search", web::get().to(search))
                .route("/v1/payment_intents/{id}", web::get().to(retrieve))
                .route("/v1/payment_intents/{id}/cancel", web::post().to(cancel))
                .route("/v1/refunds", web::post().to(refund))
                .route("/v1/refunds", web::get().to(list_refunds))
                .route("/v1/customers/{id}", web::get().to(customer))
        })
        .workers(2)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Self { url, state }
    }

    /// A customer whose card (or default payment method `pm_default`) does `card`.
    pub fn add_customer(&self, id: &str, card: Card) {
        self.ledger()
            .customers
            .insert(id.into(), (Some("pm_default".into()), card));
    }

    /// Injects `fault` into the next create request (faults are taken in order).
    pub fn fault_next(&self, fault: Fault) {
        self.state.faults.lock().unwrap().push_back(fault);
    }

    /// Answers 429 (`Retry-After: 1`) to create requests beyond `rps` in any second.
    pub fn limit_rate(&self, rps: usize) {
        *self.state.limit.lock().unwrap() = Some((rps, VecDeque::new()));
    }

    /// Draws faults at random from now on.
    pub fn hostile(&self, hostility: Hostility) {
        *self.state.random.lock().unwrap() =
            Some((hostility, StdRng::seed_from_u64(hostility.seed)));
    }

    /// Successful charges of `invoice`.
    pub fn charges_of(&self, invoice: i64) -> u32 {
        self.ledger().charges.get(&invoice).copied().unwrap_or(0)
    }

    /// Invoices charged more than once.
    pub fn double_charged(&self) -> Vec<i64> {
        let ledger = self.ledger();
        ledger
            .charges
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(i, _)| *i)
            .collect()
    }

    /// All successful charges.
    pub fn total_charges(&self) -> u64 {
        self.ledger().charges.values().map(|n| u64::from(*n)).sum()
    }

    /// Requests of `kind` received (`create`, `retrieve`, `search`, `customer`, `429`, `replay`).
    pub fn requests(&self, kind: &str) -> u64 {
        self.ledger().requests.get(kind).copied().unwrap_or(0)
    }

    /// The `Stripe-Version` headers received.
    pub fn versions(&self) -> Vec<String> {
        self.state.versions.lock().unwrap().clone()
    }

    /// The status of the PaymentIntent `id`.
    pub fn intent_status(&self, id: &str) -> Option<&'static str> {
        self.ledger().intents.get(id).map(|i| i.status)
    }

    /// The customer completes the PaymentIntent `id` (authenticates, or the bank debit
    /// settles): it succeeds, and its invoice is charged.
    pub fn complete(&self, id: &str) {
        let mut ledger = self.ledger();
        let intent = ledger.intents.get_mut(id).expect("a known PaymentIntent");
        assert_ne!(
            intent.status, "canceled",
            "a canceled intent cannot complete"
        );
        assert_ne!(intent.status, "succeeded", "completed twice");
        intent.status = "succeeded";
        intent.last_payment_error = None;
        let invoice = intent.invoice;
        ledger.charge(invoice);
    }

    /// The answer to the next refund request is lost: it is made, and answered too late.
    pub fn lose_next_refund_answer(&self) {
        *self.state.lost_refunds.lock().unwrap() += 1;
    }

    /// The refunds made of PaymentIntent `intent`, as (id, amount), oldest first.
    pub fn refunds_of(&self, intent: &str) -> Vec<(String, i64)> {
        let ledger = self.ledger();
        let mut found: Vec<(String, i64)> = ledger
            .refunds
            .values()
            .filter(|r| r.intent == intent)
            .map(|r| (r.id.clone(), r.amount))
            .collect();
        found.sort();
        found
    }

    /// The PaymentIntents made for `invoice`, oldest first.
    pub fn intents_of(&self, invoice: i64) -> Vec<Intent> {
        let mut found: Vec<Intent> = self
            .ledger()
            .intents
            .values()
            .filter(|i| i.invoice == invoice)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.id.cmp(&b.id));
        found
    }

    /// The ledger, locked.
    pub fn ledger(&self) -> std::sync::MutexGuard<'_, Ledger> {
        self.state.ledger.lock().unwrap()
    }
}

impl State {
    /// Whether a create request now goes over the rate limit.
    fn over_limit(&self) -> bool {
        let mut limit = self.limit.lock().unwrap();
        let Some((rps, recent)) = limit.as_mut() else {
            return false;
        };
        let now = std::time::Instant::now();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= std::time::Duration::from_secs(1))
        {
            recent.pop_front();
        }
        if recent.len() >= *rps {
            return true;
        }
        recent.push_back(now);
        false
    }

    fn next_fault(&self) -> Option<Fault> {
        if self.over_limit() {
            return Some(Fault::RateLimited { retry_after_s: 1 });
        }
        if let Some(fault) = self.faults.lock().unwrap().pop_front() {
            return Some(fault);
        }
        let mut random = self.random.lock().unwrap();
        let (h, rng) = random.as_mut()?;
        let roll = rng.random_range(0..100);
        if roll < h.rate_limited {
            Some(Fault::RateLimited { retry_after_s: 0 })
        } else if roll < h.rate_limited + h.error_before {
            Some(Fault::ErrorBefore)
        } else if roll < h.rate_limited + h.error_before + h.slow_answer {
            Some(Fault::SlowAnswer(self.slow))
        } else {
            None
        }
    }
}

fn respond(answer: &Answer, replayed: bool) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(answer.status).unwrap();
    let mut response = HttpResponse::build(status);
    response.insert_header(("Request-Id", "req_fake"));
    for (name, value) in &answer.headers {
        response.insert_header((*name, value.as_str()));
    }
    if replayed {
        response.insert_header(("Idempotent-Replayed", "true"));
    }
    response.json(&answer.body)
}

fn authorized(req: &HttpRequest, state: &State) -> bool {
    if let Some(version) = req
        .headers()
        .get("Stripe-Version")
        .and_then(|v| v.to_str().ok())
    {
        state.versions.lock().unwrap().push(version.to_owned());
    }
    req.headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer sk_test_"))
}

/// For a read: the ledger with the request counted as `kind`, or the 401 for a bad key.
fn read_request<'a>(
    req: &HttpRequest,
    state: &'a State,
    kind: &'static str,
) -> Result<std::sync::MutexGuard<'a, Ledger>, Box<HttpResponse>> {
    if !authorized(req, state) {
        return Err(Box::new(unauthorized()));
    }
    let mut ledger = state.ledger.lock().unwrap();
    ledger.count(kind);
    Ok(ledger)
}

fn unauthorized() -> HttpResponse {
    respond(
        &Answer::error(401, "invalid_request_error", None, json!({})),
        false,
    )
}

async fn create(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    let params = String::from_utf8_lossy(&body).into_owned();
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let fault = state.next_fault();
    match fault {
        Some(Fault::RateLimited { retry_after_s }) => {
            state.ledger.lock().unwrap().count("429");
            let mut answer = Answer::error(429, "rate_limit_error", Some("rate_limit"), json!({}));
            answer
                .headers
                .push(("Retry-After", retry_after_s.to_string()));
            return respond(&answer, false);
        }
        Some(Fault::ErrorBefore) => {
            state.ledger.lock().unwrap().count("500");
            let mut answer = Answer::error(500, "api_error", None, json!({}));
            answer.headers.push(("Stripe-Should-Retry", "true".into()));
            return respond(&answer, false);
        }
        _ => {}
    }
    let now = state.clock.now();
    let lost = state.ledger.lock().unwrap().answers_lost(&params);
    let fault = if lost {
        Some(Fault::SlowAnswer(state.slow))
    } else {
        fault
    };
    let replayed = {
        let mut ledger = state.ledger.lock().unwrap();
        ledger.count("create");
        if let Some(key) = &key {
            if ledger
                .keys
                .get(key)
                .is_some_and(|e| now - e.first_seen >= KEY_RETENTION)
            {
                ledger.keys.remove(key);
            }
            if let Some(entry) = ledger.keys.get(key) {
                let answer = if entry.params != params {
                    Answer::error(400, "idempotency_error", None, json!({}))
                } else if let Some(stored) = &entry.answer {
                    stored.clone()
                } else {
                    Answer::error(
                        409,
                        "invalid_request_error",
                        Some("idempotency_key_in_use"),
                        json!({}),
                    )
                };
                ledger.count("replay");
                Some(answer)
            } else {
                ledger.keys.insert(
                    key.clone(),
                    ledger::KeyEntry {
                        params: params.clone(),
                        first_seen: now,
                        answer: None,
                    },
                );
                None
            }
        } else {
            None
        }
    };
    if let Some(answer) = replayed {
        if lost {
            tokio::time::sleep(state.slow).await;
        }
        return respond(&answer, true);
    }
    if let Some(Fault::SlowProcessing(d)) = &fault {
        tokio::time::sleep(*d).await;
    }
    let form: HashMap<String, String> = serde_urlencoded::from_str(&params).unwrap_or_default();
    let answer = {
        let mut ledger = state.ledger.lock().unwrap();
        let mut answer = ledger.create_intent(&form);
        if fault == Some(Fault::StoredError) {
            answer = Answer::error(500, "api_error", None, json!({}));
            answer.headers.push(("Stripe-Should-Retry", "false".into()));
        }
        if let Some(key) = &key {
            // Validation errors are not stored (Stripe does not keep them).
            if answer.status == 400 {
                ledger.keys.remove(key);
            } else if let Some(entry) = ledger.keys.get_mut(key) {
                entry.answer = Some(answer.clone());
            }
        }
        answer
    };
    if let Some(Fault::SlowAnswer(d)) = fault {
        tokio::time::sleep(d).await;
    }
    respond(&answer, false)
}

async fn retrieve(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<State>,
) -> HttpResponse {
    let mut ledger = match read_request(&req, &state, "retrieve") {
        Ok(ledger) => ledger,
        Err(refused) => return *refused,
    };
    respond(&ledger.retrieve(&path), false)
}

async fn cancel(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<State>,
) -> HttpResponse {
    let mut ledger = match read_request(&req, &state, "cancel") {
        Ok(ledger) => ledger,
        Err(refused) => return *refused,
    };
    respond(&ledger.cancel(&path), false)
}

async fn refund(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    if !authorized(&req, &state) {
        return unauthorized();
    }
    let params = String::from_utf8_lossy(&body).into_owned();
    let key = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let lost = {
        let mut lost = state.lost_refunds.lock().unwrap();
        let this = *lost > 0;
        *lost = lost.saturating_sub(1);
        this
    };
    let answer = {
        let mut ledger = state.ledger.lock().unwrap();
        ledger.count("refund");
        match ledger.refund_keys.get(&key) {
            Some((first, _)) if *first != params => {
                Answer::error(400, "idempotency_error", None, json!({}))
            }
            Some((_, answer)) => answer.clone(),
            None => {
                let form: HashMap<String, String> =
                    serde_urlencoded::from_str(&params).unwrap_or_default();
                let answer = ledger.create_refund(&form);
                ledger
                    .refund_keys
                    .insert(key, (params.clone(), answer.clone()));
                answer
            }
        }
    };
    if lost {
        tokio::time::sleep(state.slow * 3).await;
    }
    respond(&answer, false)
}

async fn list_refunds(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<State>,
) -> HttpResponse {
    let ledger = match read_request(&req, &state, "list_refunds") {
        Ok(ledger) => ledger,
        Err(refused) => return *refused,
    };
    let intent = query.get("payment_intent").cloned().unwrap_or_default();
    let data: Vec<serde_json::Value> = ledger
        .refunds
        .values()
        .filter(|r| r.intent == intent)
        .map(ledger::FakeRefund::json)
        .collect();
    respond(
        &Answer::new(
            200,
            json!({"object": "list", "data": data, "has_more": false}),
        ),
        false,
    )
}

async fn search(
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    state: web::Data<State>,
) -> HttpResponse {
    let ledger = match read_request(&req, &state, "search") {
        Ok(ledger) => ledger,
        Err(refused) => return *refused,
    };
    let q = query.get("query").cloned().unwrap_or_default();
    let Some(key) = q
        .strip_prefix("metadata['antaeus_key']:'")
        .and_then(|rest| rest.strip_suffix('\''))
    else {
        return respond(
            &Answer::error(
                400,
                "invalid_request_error",
                Some("search_query_invalid"),
                json!({}),
            ),
            false,
        );
    };
    let key = key.replace("\\'", "'").replace("\\\\", "\\");
    respond(&ledger.search(&key), false)
}

async fn customer(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<State>,
) -> HttpResponse {
    let ledger = match read_request(&req, &state, "customer") {
        Ok(ledger) => ledger,
        Err(refused) => return *refused,
    };
    match ledger.customers.get(path.as_str()) {
        Some((method, _)) => respond(
            &Answer::new(
                200,
                json!({"id": *path, "object": "customer", "invoice_settings": {"default_payment_method": method}}),
            ),
            false,
        ),
        None => respond(
            &Answer::error(
                404,
                "invalid_request_error",
                Some("resource_missing"),
                json!({"param": "id"}),
            ),
            false,
        ),
    }
}
