//! The webhook notifier against a real receiver: a local actix-web server that verifies the
//! signature, deduplicates by event id and records what it accepted, as a receiver should.

use std::collections::HashSet;
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use antaeus_app::notify::{
    DEFAULT_TOLERANCE_SECS, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, WebhookConfig,
    WebhookNotifier, verify,
};
use antaeus_core::notify::{FailureNotifier, NotifyError};
use antaeus_core::{Clock, ManualClock};
use antaeus_models::Notification;
use serde_json::json;

const SECRET: &str = "whsec_integration_secret";
const PATH: &str = "/hooks/antaeus";

/// One request the receiver accepted.
#[derive(Debug, Clone)]
struct Received {
    notification: Notification,
    body: Vec<u8>,
    signature: String,
    event_id: String,
    event_type: String,
    content_type: String,
}

/// How the receiver behaves.
#[derive(Clone)]
struct Behaviour {
    secret: &'static str,
    /// Answer every request with this status, before any check.
    forced_status: Option<u16>,
    /// Wait this long before answering.
    delay: Duration,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            secret: SECRET,
            forced_status: None,
            delay: Duration::ZERO,
        }
    }
}

/// The receiver's state, shared with the test.
struct ReceiverState {
    behaviour: Behaviour,
    clock: Arc<ManualClock>,
    requests: AtomicUsize,
    seen: Mutex<HashSet<String>>,
    accepted: Mutex<Vec<Received>>,
}

/// A running receiver.
struct Receiver {
    url: String,
    state: web::Data<ReceiverState>,
    handle: ServerHandle,
}

impl Receiver {
    /// Starts a receiver on `listener` whose notion of "now" is `clock`.
    fn start(listener: TcpListener, clock: Arc<ManualClock>, behaviour: Behaviour) -> Self {
        let url = format!("http://{}{PATH}", listener.local_addr().unwrap());
        let state = web::Data::new(ReceiverState {
            behaviour,
            clock,
            requests: AtomicUsize::new(0),
            seen: Mutex::new(HashSet::new()),
            accepted: Mutex::new(Vec::new()),
        });
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .route(PATH, web::post().to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url, state, handle }
    }

    /// Starts a receiver on a free port.
    fn spawn(clock: Arc<ManualClock>, behaviour: Behaviour) -> Self {
        Self::start(TcpListener::bind("127.0.0.1:0").unwrap(), clock, behaviour)
    }

    fn accepted(&self) -> Vec<Received> {
        self.state.accepted.lock().unwrap().clone()
    }

    fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    async fn stop(self) {
        self.handle.stop(false).await;
    }
}

/// The receiving endpoint: verify, then deduplicate by the signed body's id, then record.
async fn receive(
    state: web::Data<ReceiverState>,
    request: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    state.requests.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(state.behaviour.delay).await;
    if let Some(code) = state.behaviour.forced_status {
        return HttpResponse::build(StatusCode::from_u16(code).unwrap()).body("forced answer");
    }
    let signature = header(&request, SIGNATURE_HEADER);
    let now = state.clock.now().timestamp();
    let secret = state.behaviour.secret.as_bytes();
    if let Err(err) = verify(secret, &signature, &body, now, DEFAULT_TOLERANCE_SECS) {
        return HttpResponse::Unauthorized().body(err.to_string());
    }
    let Ok(notification) = serde_json::from_slice::<Notification>(&body) else {
        return HttpResponse::BadRequest().body("not an event");
    };
    if state.seen.lock().unwrap().insert(notification.id.clone()) {
        state.accepted.lock().unwrap().push(Received {
            notification,
            body: body.to_vec(),
            signature,
            event_id: header(&request, EVENT_ID_HEADER),
            event_type: header(&request, EVENT_TYPE_HEADER),
            content_type: header(&request, "Content-Type"),
        });
    }
    HttpResponse::Ok().finish()
}

fn header(request: &HttpRequest, name: &str) -> String {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A clock stopped at `instant` (RFC 3339).
fn clock_at(instant: &str) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        serde_json::from_value(json!(instant)).unwrap(),
    ))
}

fn notifier(url: &str, clock: Arc<ManualClock>) -> WebhookNotifier {
    let config = WebhookConfig {
        url: url.to_owned(),
        secrets: vec![SECRET.to_owned()],
        timeout: Duration::from_secs(5),
    };
    WebhookNotifier::new(config, clock).unwrap()
}

/// An `invoice.charge_failed` event with id `id`.
fn event(id: &str) -> Notification {
    serde_json::from_value(json!({
        "id": id,
        "type": "invoice.charge_failed",
        "createdAt": "2025-12-01T00:00:00Z",
        "data": {
            "invoice": {
                "id": 17,
                "customerId": 3,
                "amount": "123.45",
                "currency": "EUR",
                "status": "FAILED",
                "attempts": 1,
                "nextAttemptAt": null,
                "failureReason": "customer_not_found",
                "outcome": null,
                "runId": 2
            }
        }
    }))
    .unwrap()
}

fn assert_secret_not_in(err: &NotifyError) {
    assert!(!err.to_string().contains(SECRET), "{err}");
    assert!(!format!("{err:?}").contains(SECRET), "{err:?}");
}

#[tokio::test]
async fn a_delivered_event_arrives_once_signed_with_the_clock_time_and_headers() {
    let clock = clock_at("2025-12-01T00:00:00Z");
    let receiver = Receiver::spawn(clock.clone(), Behaviour::default());
    let notifier = notifier(&receiver.url, clock.clone());
    let sent = event("evt_17_1_charge_failed");

    notifier.notify(&sent).await.unwrap();
    // The outbox delivers at least once: a second delivery must be harmless.
    notifier.notify(&sent).await.unwrap();

    assert_eq!(receiver.requests(), 2);
    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 1, "{accepted:?}");
    let got = &accepted[0];
    assert_eq!(got.notification, sent);
    assert_eq!(got.body, serde_json::to_vec(&sent).unwrap());
    assert_eq!(got.event_id, "evt_17_1_charge_failed");
    assert_eq!(got.event_type, "invoice.charge_failed");
    assert_eq!(got.content_type, "application/json");
    let timestamp = clock.now().timestamp();
    assert!(
        got.signature.starts_with(&format!("t={timestamp},v1=")),
        "{}",
        got.signature
    );
    assert!(!got.signature.contains(SECRET));
    receiver.stop().await;
}

#[tokio::test]
async fn a_captured_request_replayed_after_the_tolerance_is_refused() {
    let clock = clock_at("2025-12-01T00:00:00Z");
    let receiver = Receiver::spawn(clock.clone(), Behaviour::default());
    notifier(&receiver.url, clock.clone())
        .notify(&event("evt_replayed"))
        .await
        .unwrap();
    let captured = receiver.accepted().remove(0);

    clock.set(serde_json::from_value(json!("2025-12-01T00:05:01Z")).unwrap());
    let replay = reqwest::Client::new()
        .post(&receiver.url)
        .header("Content-Type", "application/json")
        .header(SIGNATURE_HEADER, &captured.signature)
        .body(captured.body)
        .send()
        .await
        .unwrap();

    assert_eq!(replay.status(), 401);
    assert!(replay.text().await.unwrap().contains("away from now"));
    receiver.stop().await;
}

#[tokio::test]
async fn a_server_error_is_unavailable_and_a_bad_request_is_rejected() {
    let clock = clock_at("2025-12-01T00:00:00Z");
    for (status, unavailable) in [(500, true), (503, true), (429, true), (400, false)] {
        let behaviour = Behaviour {
            forced_status: Some(status),
            ..Behaviour::default()
        };
        let receiver = Receiver::spawn(clock.clone(), behaviour);
        let err = notifier(&receiver.url, clock.clone())
            .notify(&event("evt_status"))
            .await
            .unwrap_err();
        match (&err, unavailable) {
            (NotifyError::Unavailable(msg), true) | (NotifyError::Rejected(msg), false) => {
                assert!(msg.contains(&format!("HTTP {status}")), "{msg}");
                assert!(msg.contains("forced answer"), "{msg}");
                assert!(!msg.contains(PATH), "the URL's path is not logged: {msg}");
            }
            _ => panic!("HTTP {status} gave {err:?}"),
        }
        assert_secret_not_in(&err);
        receiver.stop().await;
    }
}

#[tokio::test]
async fn a_receiver_with_another_secret_refuses_the_event() {
    let clock = clock_at("2025-12-01T00:00:00Z");
    let behaviour = Behaviour {
        secret: "whsec_someone_elses_secret",
        ..Behaviour::default()
    };
    let receiver = Receiver::spawn(clock.clone(), behaviour);

    let err = notifier(&receiver.url, clock)
        .notify(&event("evt_wrong_secret"))
        .await
        .unwrap_err();

    let NotifyError::Rejected(msg) = &err else {
        panic!("expected Rejected, got {err:?}");
    };
    assert!(msg.contains("HTTP 401"), "{msg}");
    assert!(msg.contains("signature does not match"), "{msg}");
    assert_secret_not_in(&err);
    assert!(receiver.accepted().is_empty());
    receiver.stop().await;
}

#[tokio::test]
async fn a_slow_receiver_times_out_as_unavailable() {
    let clock = clock_at("2025-12-01T00:00:00Z");
    let behaviour = Behaviour {
        delay: Duration::from_secs(10),
        ..Behaviour::default()
    };
    let receiver = Receiver::spawn(clock.clone(), behaviour);
    let config = WebhookConfig {
        url: receiver.url.clone(),
        secrets: vec![SECRET.to_owned()],
        timeout: Duration::from_millis(300),
    };
    let notifier = WebhookNotifier::new(config, clock).unwrap();

    let err = notifier.notify(&event("evt_slow")).await.unwrap_err();

    let NotifyError::Unavailable(msg) = &err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(msg.contains("no answer"), "{msg}");
    receiver.stop().await;
}

#[tokio::test]
async fn an_outage_is_unavailable_and_delivery_succeeds_once_the_receiver_is_back() {
    let clock = clock_at("2025-12-01T00:00:00Z");
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let notifier = notifier(&format!("http://127.0.0.1:{port}{PATH}"), clock.clone());
    let sent = event("evt_after_outage");

    let err = notifier.notify(&sent).await.unwrap_err();
    let NotifyError::Unavailable(msg) = &err else {
        panic!("expected Unavailable, got {err:?}");
    };
    assert!(msg.contains("could not connect"), "{msg}");
    assert_secret_not_in(&err);

    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let receiver = Receiver::start(listener, clock, Behaviour::default());
    notifier.notify(&sent).await.unwrap();

    let accepted = receiver.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].notification, sent);
    receiver.stop().await;
}

#[tokio::test]
async fn while_the_secret_is_rotated_receivers_holding_either_secret_verify() {
    const NEW_SECRET: &str = "whsec_integration_secret_rotated";
    let clock = clock_at("2025-12-01T00:00:00Z");
    for receiver_secret in [SECRET, NEW_SECRET] {
        let behaviour = Behaviour {
            secret: receiver_secret,
            ..Behaviour::default()
        };
        let receiver = Receiver::spawn(clock.clone(), behaviour);
        let config = WebhookConfig {
            url: receiver.url.clone(),
            secrets: vec![SECRET.to_owned(), NEW_SECRET.to_owned()],
            timeout: Duration::from_secs(5),
        };
        let notifier = WebhookNotifier::new(config, clock.clone()).unwrap();

        notifier.notify(&event("evt_rotated")).await.unwrap();

        let accepted = receiver.accepted();
        assert_eq!(accepted.len(), 1, "a receiver holding {receiver_secret}");
        let signature = &accepted[0].signature;
        assert_eq!(signature.matches("v1=").count(), 2, "{signature}");
        assert!(!signature.contains(SECRET) && !signature.contains(NEW_SECRET));
        receiver.stop().await;
    }
}
