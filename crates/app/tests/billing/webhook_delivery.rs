//! Billing events reach a webhook receiver through the outbox: signed, and every one of them,
//! even when the receiver was down while they happened.

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
use crate::helpers::{database, run_request, seed_due_invoices, simulated};

billing_tests!(a_receiver_that_was_down_receives_every_event_once_it_is_back);

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
            secret: SECRET.into(),
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
