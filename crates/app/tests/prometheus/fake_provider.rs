//! A payment provider speaking the Antaeus HTTP protocol whose health the test switches: while
//! healthy it charges three calls in four and answers `customer_not_found` to the fourth (so
//! invoices FAIL); in an outage it answers 429 and 503 in turn (so the breaker opens and the run
//! aborts).

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

/// The switch and the call count the handler shares with the test.
#[derive(Default)]
pub struct FakeProvider {
    outage: AtomicBool,
    calls: AtomicU64,
}

impl FakeProvider {
    /// Serves on a free port; returns the provider and its base URL.
    pub fn start() -> (Arc<Self>, String) {
        let provider = Arc::new(Self::default());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = web::Data::from(provider.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .route("/charges", web::post().to(charge))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        (provider, url)
    }

    /// From now on, every call fails: 429 and 503 in turn.
    pub fn fail(&self) {
        self.outage.store(true, Ordering::SeqCst);
    }
}

async fn charge(provider: web::Data<FakeProvider>) -> HttpResponse {
    let n = provider.calls.fetch_add(1, Ordering::SeqCst);
    if provider.outage.load(Ordering::SeqCst) {
        return if n.is_multiple_of(2) {
            HttpResponse::TooManyRequests().finish()
        } else {
            HttpResponse::ServiceUnavailable().finish()
        };
    }
    if n % 4 == 3 {
        HttpResponse::NotFound().json(json!({ "error": "customer_not_found" }))
    } else {
        HttpResponse::Ok().json(json!({ "status": "charged", "charge_id": format!("fake_{n}") }))
    }
}
