use std::collections::HashSet;

use antaeus_core::store::AttemptStore;
use antaeus_models::{AttemptOutcome, InvoiceId};
use serde_json::Value;

use crate::api_tests;
use crate::helpers::{TestApp, assert_problem};

api_tests!(
    a_trigger_starts_a_run_in_the_background_and_answers_at_once,
    the_same_key_answers_the_same_run_however_it_is_named,
    an_eventbridge_event_delivered_many_times_makes_one_run_and_one_set_of_charges,
    runs_are_listed_newest_first_with_pagination,
    unknown_and_malformed_run_ids_are_problems,
);

/// The AWS sample scheduled event, as an EventBridge rule delivers it.
pub const EVENT: &str = r#"{
  "version": "0",
  "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
  "detail-type": "Scheduled Event",
  "source": "aws.events",
  "account": "123456789012",
  "time": "2026-12-01T00:00:00Z",
  "region": "us-east-1",
  "resources": ["arn:aws:events:us-east-1:123456789012:rule/antaeus-monthly"],
  "detail": {}
}"#;

pub const RUNS: &str = "/rest/v1/billing/runs";

async fn a_trigger_starts_a_run_in_the_background_and_answers_at_once(app: TestApp) {
    let response = app.post(RUNS, "", &[]).await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let run: Value = response.json().await.unwrap();
    assert_eq!(location, format!("{RUNS}/{}", run["id"]));
    assert_eq!(run["trigger"], "api");
    assert!(
        run["status"] == "RUNNING" || run["status"] == "COMPLETED",
        "{run}"
    );

    let done = app.wait_for_run(run["id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    let counts = &done["counts"];
    assert_eq!(
        counts["claimed"], 100,
        "the 100 PENDING invoices of the original data"
    );
    let settled = ["paid", "declined", "failed", "retryScheduled"]
        .iter()
        .map(|k| counts[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(settled, 100, "{done}");
    assert_eq!(counts["inFlight"], 0);
    assert!(
        done["providerCalls"]["total"].as_u64().unwrap() >= 100,
        "{done}"
    );
    assert!(done["finishedAt"].is_string());
    let instant = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(done[field].as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{field}: {e} in {done}"))
    };
    assert!(
        instant("countedAt") >= instant("finishedAt"),
        "an ended run's calls are counted after its end: {done}"
    );
    assert!(
        run.get("countedAt").is_none(),
        "the trigger's answer counts nothing: {run}"
    );

    // An empty body names no run: the next trigger starts another.
    let second = app.post(RUNS, "", &[]).await;
    assert_eq!(second.status(), 202);
    let second: Value = second.json().await.unwrap();
    assert_ne!(second["id"], run["id"]);
}

async fn the_same_key_answers_the_same_run_however_it_is_named(app: TestApp) {
    let key = [("Idempotency-Key", "billing-2026-12")];
    let first = app.post(RUNS, "", &key).await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    let again = app.post(RUNS, "", &key).await;
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.headers()["location"],
        format!("{RUNS}/{}", first["id"])
    );
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], first["id"]);

    let body_key = app
        .post(RUNS, r#"{"idempotencyKey":"from-body"}"#, &[])
        .await;
    assert_eq!(body_key.status(), 202);
    let body_key: Value = body_key.json().await.unwrap();
    assert_eq!(body_key["idempotencyKey"], "from-body");

    // The same key in the body names the same run as in the header.
    let same = app
        .post(RUNS, r#"{"idempotencyKey":"billing-2026-12"}"#, &[])
        .await;
    assert_eq!(same.status(), 200);
    // Fields the trigger does not know do not make it another request.
    let noted = app.post(RUNS, r#"{"note":"a rerun by hand"}"#, &key).await;
    assert_eq!(noted.status(), 200);
    let runs: Vec<Value> = app.get(RUNS).await.json().await.unwrap();
    assert_eq!(runs.len(), 2);
}

async fn an_eventbridge_event_delivered_many_times_makes_one_run_and_one_set_of_charges(
    app: TestApp,
) {
    // Twice in a row: one run.
    let first = app.post(RUNS, EVENT, &[]).await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["trigger"], "eventbridge");
    assert_eq!(
        first["idempotencyKey"],
        "89d1a02d-5ec7-412e-82f5-13505f849b41"
    );
    assert_eq!(app.post(RUNS, EVENT, &[]).await.status(), 200);

    // Then 50 identical deliveries at once, twice: for this event and for a new one.
    let fresh = EVENT.replace(
        "89d1a02d-5ec7-412e-82f5-13505f849b41",
        "0e2a6b1c-aaaa-4bbb-8ccc-000000000050",
    );
    for (event, expect_started) in [(EVENT.to_owned(), 0), (fresh, 1)] {
        let deliveries: Vec<_> = (0..50)
            .map(|_| {
                let client = app.client.clone();
                let url = format!("{}{RUNS}", app.address);
                let event = event.clone();
                tokio::spawn(async move {
                    client
                        .post(url)
                        .header("x-api-key", crate::helpers::API_TOKEN)
                        .header("content-type", "application/json; charset=utf-8")
                        .body(event)
                        .send()
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut started = 0;
        let mut ids = HashSet::new();
        for delivery in deliveries {
            let response = delivery.await.unwrap();
            match response.status().as_u16() {
                202 => started += 1,
                200 => {}
                other => panic!("unexpected status {other}"),
            }
            let run: Value = response.json().await.unwrap();
            ids.insert(run["id"].as_i64().unwrap());
        }
        assert_eq!(started, expect_started, "one delivery starts the run");
        assert_eq!(ids.len(), 1, "every delivery names the same run");
    }
    let runs: Vec<Value> = app.get(RUNS).await.json().await.unwrap();
    assert_eq!(runs.len(), 2, "one run per event id: {runs:?}");
    for run in &runs {
        assert_eq!(
            app.wait_for_run(run["id"].as_i64().unwrap()).await["status"],
            "COMPLETED"
        );
    }

    // One set of charges: no invoice charged twice, and exactly the newly PAID ones charged.
    let mut charged = 0;
    for id in 1..=1_000 {
        let attempts = app
            .db
            .db
            .list_attempts(InvoiceId::new(id).unwrap())
            .await
            .unwrap();
        let charges = attempts
            .iter()
            .filter(|a| a.outcome == Some(AttemptOutcome::Charged))
            .map(|a| a.idempotency_key.clone())
            .collect::<HashSet<_>>()
            .len();
        assert!(
            charges <= 1,
            "invoice {id} charged under {charges} keys: {attempts:?}"
        );
        charged += charges;
    }
    let paid: Vec<Value> = app
        .get("/rest/v1/invoices?status=PAID")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        charged,
        paid.len() - 900,
        "the original data has 900 PAID invoices"
    );
    assert!(charged >= 50, "most due invoices were charged: {charged}");
}

async fn runs_are_listed_newest_first_with_pagination(app: TestApp) {
    for n in 0..5 {
        let key = format!("run-{n}");
        assert_eq!(
            app.post(RUNS, "", &[("Idempotency-Key", key.as_str())])
                .await
                .status(),
            202
        );
    }
    let all: Vec<Value> = app.get(RUNS).await.json().await.unwrap();
    let ids: Vec<i64> = all.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 5);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let page = app.get(&format!("{RUNS}?limit=2")).await;
    let link = page.headers()["link"].to_str().unwrap().to_owned();
    assert!(link.contains(&format!("before={}", ids[1])), "{link}");
    let page: Vec<Value> = page.json().await.unwrap();
    assert_eq!(page.len(), 2);
    let rest: Vec<Value> = app
        .get(&format!("{RUNS}?before={}", ids[1]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        rest.iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect::<Vec<_>>(),
        ids[2..]
    );
}

async fn unknown_and_malformed_run_ids_are_problems(app: TestApp) {
    assert_problem(app.get(&format!("{RUNS}/424242")).await, 404).await;
    assert_problem(app.get(&format!("{RUNS}/run-1")).await, 400).await;
}
