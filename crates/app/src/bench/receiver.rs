//! The SaaS's webhook receiver, played on a local port for the benchmark: it answers 204 to
//! every event and counts them, so the engine scenarios deliver their events as `serve` and
//! `bill` do, over HTTP and signed, and the benchmark can tell that every one arrived.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;

/// A running receiver.
pub(super) struct Receiver {
    /// Where it listens: `http://127.0.0.1:<port>/events`.
    pub url: String,
    received: Arc<AtomicU64>,
    handle: ServerHandle,
}

impl Receiver {
    /// Starts a receiver on a free port (one worker, as a small receiver would run).
    pub fn start() -> anyhow::Result<Self> {
        let listener =
            TcpListener::bind("127.0.0.1:0").context("cannot bind the webhook receiver")?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(AtomicU64::new(0));
        let counter = web::Data::from(received.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(counter.clone())
                .route("/events", web::post().to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .context("cannot serve the webhook receiver")?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self {
            url: format!("http://127.0.0.1:{port}/events"),
            received,
            handle,
        })
    }

    /// Events received so far (at least once: a redelivery counts again).
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Stops it.
    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn receive(counter: web::Data<AtomicU64>, _body: web::Bytes) -> HttpResponse {
    counter.fetch_add(1, Ordering::Relaxed);
    HttpResponse::NoContent().finish()
}
