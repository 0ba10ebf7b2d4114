//! `GET /rest/v1/events` and `POST /rest/v1/events/{id}/redeliver`: the outbox as operators see
//! it, with the real outbox worker delivering in the background.

use std::time::Duration;

use antaeus_data::Backend;
use serde_json::Value;

use crate::api_tests;
use crate::helpers::{API_TOKEN, TestApp, assert_problem, spawn_app_with};

api_tests!(
    delivered_events_are_listed_and_can_be_delivered_again,
    redelivery_needs_the_token_and_a_known_well_formed_id,
);

const EVENTS: &str = "/rest/v1/events";

fn backends() -> [Backend; 2] {
    [Backend::Sqlite, Backend::Postgres]
}

/// Events of one page at `path_and_query`, and the `Link` header's next page, if any.
async fn page(app: &TestApp, path_and_query: &str) -> (Vec<Value>, Option<String>) {
    let response = app.get(path_and_query).await;
    assert_eq!(response.status(), 200, "{path_and_query}");
    let next = response.headers().get("link").map(|link| {
        let link = link.to_str().unwrap();
        assert!(link.ends_with("rel=\"next\""), "{link}");
        link[link.find('<').unwrap() + 1..link.find('>').unwrap()].to_owned()
    });
    (response.json().await.unwrap(), next)
}

/// Every event with `status`, once the background worker has left none pending.
async fn settled(app: &TestApp, status: &str) -> Vec<Value> {
    for _ in 0..200 {
        let (pending, _) = page(app, &format!("{EVENTS}?status=pending")).await;
        if pending.is_empty() {
            return page(app, &format!("{EVENTS}?status={status}")).await.0;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("events are still pending");
}

/// Asserts that `/metrics` shows `line`. The gauges are process-wide and other tests' servers
/// set them too when scraped, so a scrape may show another database's figure: a few tries.
async fn shows_metric(app: &TestApp, line: &str) {
    let mut metrics = String::new();
    for _ in 0..20 {
        metrics = app.get("/metrics").await.text().await.unwrap();
        if metrics.lines().any(|l| l == line) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{line} missing from:\n{metrics}");
}

/// An address where nothing listens: every delivery to it fails at once.
fn unreachable_receiver() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}/hooks", listener.local_addr().unwrap())
}

/// Billing writes events whose deliveries all fail: with `ANTAEUS_OUTBOX_MAX_FAILURES=1` each
/// is dead after its first try. They are counted, listed page by page, and re-queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_events_are_counted_listed_in_pages_and_requeued() {
    for backend in backends() {
        let receiver = unreachable_receiver();
        let Some(app) = spawn_app_with(
            backend,
            &[
                ("ANTAEUS_OUTBOX_MAX_FAILURES", "1"),
                ("ANTAEUS_WEBHOOK_URL", &receiver),
                ("ANTAEUS_WEBHOOK_SECRET", "whsec_test"),
                ("ANTAEUS_SIMULATED_OUTCOMES", "customer_not_found=1"),
            ],
        )
        .await
        else {
            continue;
        };
        // The 100 PENDING invoices of the original data fail, and the run completes.
        app.bill().await;
        let dead = settled(&app, "dead").await;
        assert_eq!(dead.len(), 101);
        shows_metric(&app, "antaeus_outbox_dead_events 101").await;
        shows_metric(&app, "antaeus_outbox_backlog 0").await;

        // Pages of 40, walked through the Link header.
        let mut walked = Vec::new();
        let mut next = Some(format!("{EVENTS}?status=dead&limit=40"));
        while let Some(path) = next {
            let (events, link) = page(&app, &path).await;
            assert!(events.len() <= 40);
            walked.extend(events);
            next = link;
        }
        assert_eq!(walked, dead);
        let event = &dead[0];
        assert_eq!(
            (event["status"].as_str(), event["failures"].as_u64()),
            (Some("dead"), Some(1))
        );
        assert!(event["deadAt"].is_string() && event["nextAttemptAt"].is_null());
        assert!(event["lastError"].as_str().unwrap().contains("unavailable"));
        assert_eq!(event["type"], "invoice.charge_failed");
        assert_eq!(event["payload"]["id"], event["id"]);
        assert_eq!(
            event["payload"]["data"]["invoice"]["failureReason"],
            "customer_not_found"
        );

        let id = event["id"].as_str().unwrap();
        let requeued = app.post(&format!("{EVENTS}/{id}/redeliver"), "", &[]).await;
        assert_eq!(requeued.status(), 200);
        let requeued: Value = requeued.json().await.unwrap();
        assert_eq!(requeued["id"], id);
        assert_eq!(requeued["seq"], event["seq"]);
        assert_eq!(
            (requeued["status"].as_str(), requeued["failures"].as_u64()),
            (Some("pending"), Some(0))
        );
        assert!(requeued["lastError"].is_null() && requeued["deadAt"].is_null());
        assert!(requeued["nextAttemptAt"].is_string());
        // The receiver is still down: tried once more, it is dead again.
        let dead_again = settled(&app, "dead").await;
        assert_eq!(dead_again.len(), 101);
    }
}

/// An event whose stored payload is not even JSON is dead after its tries; every event billing
/// wrote beside it is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_event_dies_alone_and_the_others_are_delivered() {
    for backend in backends() {
        let Some(app) = spawn_app_with(
            backend,
            &[
                ("ANTAEUS_OUTBOX_MAX_FAILURES", "1"),
                ("ANTAEUS_SIMULATED_OUTCOMES", "customer_not_found=1"),
            ],
        )
        .await
        else {
            continue;
        };
        app.db
            .execute(
                "INSERT INTO outbox (event_id, event_type, payload, created_at, available_at) \
                 VALUES ('evt_broken', 'invoice.charge_failed', 'not json', \
                 '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
            )
            .await
            .unwrap();
        app.bill().await;
        let dead = settled(&app, "dead").await;
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0]["id"], "evt_broken");
        assert!(dead[0]["payload"].is_null(), "{}", dead[0]);
        let reason = dead[0]["lastError"].as_str().unwrap();
        assert!(reason.contains("cannot be read"), "{reason}");
        let delivered = page(&app, &format!("{EVENTS}?status=delivered")).await.0;
        assert_eq!(delivered.len(), 101);
        assert!(delivered.iter().all(|e| e["failures"] == 0));
    }
}

async fn delivered_events_are_listed_and_can_be_delivered_again(app: TestApp) {
    app.bill().await;
    let delivered = settled(&app, "delivered").await;
    assert!(!delivered.is_empty());
    let (all, _) = page(&app, EVENTS).await;
    assert_eq!(all, delivered, "nothing pending or dead");
    let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first");
    let run_completed = all.iter().find(|e| e["type"] == "run.completed").unwrap();
    assert!(run_completed["deliveredAt"].is_string());

    // A delivered event may be delivered again (receivers deduplicate by id).
    let id = run_completed["id"].as_str().unwrap();
    let requeued = app.post(&format!("{EVENTS}/{id}/redeliver"), "", &[]).await;
    assert_eq!(requeued.status(), 200);
    let requeued: Value = requeued.json().await.unwrap();
    assert_eq!(requeued["status"], "pending");
    assert!(requeued["deliveredAt"].is_null());
    let again = settled(&app, "delivered").await;
    assert_eq!(again.len(), delivered.len());
}

async fn redelivery_needs_the_token_and_a_known_well_formed_id(app: TestApp) {
    let url = format!("{}{EVENTS}/evt_run_1_completed/redeliver", app.address);
    for token in [None, Some("wrong-token")] {
        let mut request = app.client.post(&url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_problem(request.send().await.unwrap(), 401).await;
    }
    let unknown = app
        .post(&format!("{EVENTS}/evt_nope/redeliver"), "", &[])
        .await;
    let problem = assert_problem(unknown, 404).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("evt_nope"),
        "{problem}"
    );
    let spaced = app
        .post(&format!("{EVENTS}/evt%20x/redeliver"), "", &[])
        .await;
    assert_problem(spaced, 400).await;
    let bad_status = app.get(&format!("{EVENTS}?status=failed")).await;
    let problem = assert_problem(bad_status, 400).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("pending, delivered, dead"),
        "{problem}"
    );
    // Reads need no token, as the other listings.
    assert_eq!(app.get(EVENTS).await.status(), 200);
    // The API token is accepted as a bearer token too.
    let response = app
        .client
        .post(&url)
        .bearer_auth(API_TOKEN)
        .send()
        .await
        .unwrap();
    assert_problem(response, 404).await;
}
