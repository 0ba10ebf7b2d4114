//! Billing events reach a webhook receiver through the outbox: signed, and every one of them,
//! even when the receiver was down while they happened, and `antaeus bill` delivers its run's
//! events before it exits.

use std::collections::HashSet;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use antaeus_app::notify::{
    DEFAULT_TOLERANCE_SECS, SIGNATURE_HEADER, WebhookConfig, WebhookNotifier, verify,
};
use antaeus_app::provider::OutcomeMix;
use antaeus_core::billing::{BillingConfig, BillingDeps, BillingService, SeededRandom};
use antaeus_core::notify::{OutboxConfig, OutboxWorker};
use antaeus_core::store::OutboxStore;
use antaeus_core::{Clock, ManualClock, Shutdown};
use antaeus_data::Backend;
use antaeus_models::{EventKind, Notification, RunTrigger};
use chrono::{DateTime, TimeDelta, Utc};

use crate::billing_tests;
use crate::helpers::{bill_process, database, run_request, seed_due_invoices, simulated};

billing_tests!(
    a_receiver_that_was_down_receives_every_event_once_it_is_back,
    antaeus_bill_delivers_every_event_of_its_run_before_it_exits,
);

const SECRET: &str = "whsec_test";

/// Accepted events by id, and how many deliveries arrived in all.
#[derive(Default)]
struct Inbox {
    ids: Mutex<HashSet<String>>,
    kinds: Mutex<Vec<EventKind>>,
    deliveries: Mutex<usize>,
}

async fn receive(
    inbox: web::Data<(Arc<Inbox>, Arc<ManualClock>)>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let (inbox, clock) = inbox.get_ref();
    *inbox.deliveries.lock().unwrap() += 1;
    let Some(signature) = request
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
    else {
        return HttpResponse::Unauthorized().finish();
    };
    if verify(
        SECRET.as_bytes(),
        signature,
        &body,
        clock.now().timestamp(),
        DEFAULT_TOLERANCE_SECS,
    )
    .is_err()
    {
        return HttpResponse::Unauthorized().finish();
    }
    let event: Notification = serde_json::from_slice(&body).unwrap();
    if inbox.ids.lock().unwrap().insert(event.id.clone()) {
        inbox.kinds.lock().unwrap().push(event.kind);
    }
    HttpResponse::Ok().finish()
}

fn start_receiver(addr: SocketAddr, inbox: Arc<Inbox>, clock: Arc<ManualClock>) {
    let data = web::Data::new((inbox, clock));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/hook", web::post().to(receive))
    })
    .workers(1)
    .disable_signals()
    .listen(TcpListener::bind(addr).unwrap())
    .unwrap()
    .run();
    tokio::spawn(server);
}

async fn a_receiver_that_was_down_receives_every_event_once_it_is_back(backend: Backend) {
    let Some(test_db) = database(backend).await else {
        return;
    };
    let db = test_db.db.clone();
    seed_due_invoices(&db, 200).await;
    let t0: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let clock = Arc::new(ManualClock::new(t0));
    let provider = simulated(
        OutcomeMix::parse("charged=60,declined=30,customer_not_found=10").unwrap(),
        0,
        5,
    );
    let store = Arc::new(db.clone());
    let billing = BillingService::new(
        BillingDeps {
            billing: store.clone(),
            runs: store.clone(),
            instances: store.clone(),
            provider,
            clock: clock.clone(),
            random: Arc::new(SeededRandom::new(1)),
        },
        BillingConfig::default(),
        "webhook-test",
    );
    let run = billing
        .bill(
            &run_request("monthly", RunTrigger::Scheduler),
            Shutdown::never(),
        )
        .await
        .unwrap();
    // One event per invoice.paid, invoice.charge_declined and invoice.charge_failed, and the
    // run's run.completed.
    let expected = run.counts.paid + run.counts.declined + run.counts.failed + 1;
    assert!(run.counts.declined > 0 && run.counts.failed > 0, "{run:?}");
    assert_eq!(store.outbox_backlog().await.unwrap(), expected);

    // The receiver is down: a port nobody listens on.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let notifier = WebhookNotifier::new(
        WebhookConfig {
            url: format!("http://{addr}/hook"),
            secrets: vec![SECRET.into()],
            timeout: Duration::from_secs(2),
        },
        clock.clone(),
    )
    .unwrap();
    let worker = OutboxWorker::new(
        store.clone(),
        Arc::new(notifier),
        clock.clone(),
        OutboxConfig::default(),
    );
    let mut failed = 0;
    loop {
        let report = worker.try_deliver().await.unwrap();
        assert_eq!(report.delivered, 0);
        if report.failed == 0 {
            break;
        }
        failed += report.failed;
    }
    assert_eq!(
        u64::from(failed),
        expected,
        "every event tried once, none lost"
    );
    assert_eq!(store.outbox_backlog().await.unwrap(), expected);

    // It comes back; the retries are due a few seconds later.
    let inbox = Arc::new(Inbox::default());
    start_receiver(addr, inbox.clone(), clock.clone());
    for _ in 0..10 {
        if store.outbox_backlog().await.unwrap() == 0 {
            break;
        }
        clock.advance(TimeDelta::seconds(10));
        while worker.try_deliver().await.unwrap().delivered > 0 {}
    }
    assert_eq!(store.outbox_backlog().await.unwrap(), 0);
    assert_eq!(
        inbox.ids.lock().unwrap().len() as u64,
        expected,
        "every event, once each"
    );
    let kinds = inbox.kinds.lock().unwrap().clone();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::RunCompleted)
            .count(),
        1
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::ChargeDeclined)
            .count() as u64,
        run.counts.declined
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == EventKind::ChargeFailed)
            .count() as u64,
        run.counts.failed
    );
}

/// A receiver that takes `delay` to accept each event; returns the ids it accepted.
fn start_slow_receiver(delay: Duration) -> (String, Arc<Mutex<HashSet<String>>>) {
    let ids = Arc::new(Mutex::new(HashSet::new()));
    let accepted = web::Data::new(ids.clone());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let server = HttpServer::new(move || {
        App::new().app_data(accepted.clone()).route(
            "/hook",
            web::post().to(
                move |ids: web::Data<Arc<Mutex<HashSet<String>>>>, body: web::Bytes| async move {
                    tokio::time::sleep(delay).await;
                    let event: Notification = serde_json::from_slice(&body).unwrap();
                    ids.lock().unwrap().insert(event.id);
                    HttpResponse::Ok().finish()
                },
            ),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (url, ids)
}

/// A receiver slower than the run (50 deliveries in flight, 0.5 s each: about 100 events a
/// second, so 1,000 events take about 10 s, most of them after the run): `antaeus bill` keeps
/// delivering until the outbox is empty, rather than leaving events to a server after a few
/// seconds.
async fn antaeus_bill_delivers_every_event_of_its_run_before_it_exits(backend: Backend) {
    let Some(test_db) = database(backend).await else {
        return;
    };
    let invoices = 1_000;
    seed_due_invoices(&test_db.db, invoices).await;
    let (url, accepted) = start_slow_receiver(Duration::from_millis(500));
    let env = vec![
        ("ANTAEUS_DATABASE_URL", test_db.url_string()),
        ("ANTAEUS_PAYMENT_PROVIDER", "simulated".into()),
        ("ANTAEUS_SIMULATED_OUTCOMES", "charged=1".into()),
        ("ANTAEUS_SIMULATED_LATENCY_MS", "0".into()),
        ("ANTAEUS_SIMULATED_JITTER_MS", "0".into()),
        ("ANTAEUS_WEBHOOK_URL", url),
        ("ANTAEUS_WEBHOOK_SECRET", SECRET.into()),
        ("ANTAEUS_DB_POOL_SIZE", "4".into()),
        ("RUST_LOG", "error".into()),
    ];
    let output = bill_process(&env).output().await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert_eq!(test_db.db.outbox_backlog().await.unwrap(), 0, "{stdout}");
    // Every invoice.paid, and the run's run.completed.
    assert_eq!(accepted.lock().unwrap().len(), invoices + 1, "{stdout}");
    assert!(
        stdout.contains("events: ") && !stdout.contains("left in the outbox"),
        "stdout: {stdout}"
    );
}
