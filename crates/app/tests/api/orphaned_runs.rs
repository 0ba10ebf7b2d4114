//! Issue 10, window 2: no orphaned runs. Instance A records the run for an EventBridge event
//! and is killed before it answers (here: while it charges). EventBridge redelivers within
//! the lease to instance B, which sees A's heartbeat as fresh and answers 200 "existing";
//! EventBridge stops there. The run must still end, without another trigger, and the replays
//! documented for operators (`antaeus bill --idempotency-key`, an empty-body trigger with the
//! event's id as `Idempotency-Key`) must resume it instead of refusing it.

use std::collections::HashSet;
use std::time::Duration;

use antaeus_core::store::{AttemptStore, InvoiceStore};
use antaeus_data::testing::TestDatabase;
use antaeus_models::{AttemptOutcome, InvoiceStatus};
use serde_json::Value;
use tokio::process::{Child, Command};

use crate::billing_runs::{EVENT, RUNS};
use crate::helpers::{API_TOKEN, TestApp, spawn_app_on};

/// The event's id: the run's idempotency key.
const EVENT_ID: &str = "89d1a02d-5ec7-412e-82f5-13505f849b41";

/// Leases in these tests, in seconds.
const LEASE_S: &str = "2";

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = antaeus_data::testing::TestDatabase::new(antaeus_data::Backend::Sqlite).await.unwrap();
                    super::$name(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(db) = antaeus_data::testing::TestDatabase::new(antaeus_data::Backend::Postgres).await {
                        super::$name(db).await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    a_run_whose_instance_died_is_resumed_by_a_live_instance_without_another_trigger,
    antaeus_bill_with_the_event_id_resumes_the_orphaned_run,
    an_empty_body_trigger_with_the_event_id_resumes_the_orphaned_run,
);

async fn a_run_whose_instance_died_is_resumed_by_a_live_instance_without_another_trigger(
    db: TestDatabase,
) {
    let run = instance_a_dies_while_charging(&db).await;
    let b = spawn_app_on(db, &[("ANTAEUS_LEASE_TIMEOUT_S", LEASE_S)]).await;

    // EventBridge's redelivery reaches B within the lease: A looks alive, nothing starts.
    let redelivered = b.post(RUNS, EVENT, &[]).await;
    assert_eq!(redelivered.status(), 200);
    let existing: Value = redelivered.json().await.unwrap();
    assert_eq!(existing["id"], run);

    // No further trigger: B finds the run silent past the lease and finishes it.
    let ended = wait_until_ended(&b, run, Duration::from_secs(30)).await;
    assert_eq!(ended["status"], "COMPLETED", "{ended}");
    assert_eq!(
        ended["counts"]["inFlight"], 0,
        "a claim taken over by the run that made it counts once: {ended}"
    );
    assert_nothing_lost_or_doubled(&b).await;
}

async fn antaeus_bill_with_the_event_id_resumes_the_orphaned_run(db: TestDatabase) {
    let run = instance_a_dies_while_charging(&db).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    let output = Command::new(env!("CARGO_BIN_EXE_antaeus"))
        .args(["bill", "--idempotency-key", EVENT_ID])
        .env_clear()
        .envs(instance_env(&db))
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "antaeus bill refused the replay: {}\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("run {run}")), "{stdout}");
    let b = spawn_app_on(db, &[("ANTAEUS_LEASE_TIMEOUT_S", LEASE_S)]).await;
    let ended: Value = b.get(&format!("{RUNS}/{run}")).await.json().await.unwrap();
    assert_eq!(ended["status"], "COMPLETED", "{ended}");
    assert_nothing_lost_or_doubled(&b).await;
}

async fn an_empty_body_trigger_with_the_event_id_resumes_the_orphaned_run(db: TestDatabase) {
    let run = instance_a_dies_while_charging(&db).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let b = spawn_app_on(db, &[("ANTAEUS_LEASE_TIMEOUT_S", LEASE_S)]).await;

    let replay = b.post(RUNS, "", &[("Idempotency-Key", EVENT_ID)]).await;

    // 202 when this replay resumed it, 200 when B's sweeper got there first: never 422.
    let status = replay.status().as_u16();
    let body: Value = replay.json().await.unwrap();
    assert!(matches!(status, 200 | 202), "{status}: {body}");
    assert_eq!(body["id"], run);
    let ended = wait_until_ended(&b, run, Duration::from_secs(30)).await;
    assert_eq!(ended["status"], "COMPLETED", "{ended}");
    assert_eq!(
        ended["counts"]["inFlight"], 0,
        "a claim taken over by the run that made it counts once: {ended}"
    );
    assert_nothing_lost_or_doubled(&b).await;
}

/// The environment of an instance on `db`: the simulated provider, short leases.
fn instance_env(db: &TestDatabase) -> Vec<(&'static str, String)> {
    vec![
        ("ANTAEUS_DATABASE_URL", db.url_string()),
        ("ANTAEUS_SCHEDULER", "off".into()),
        ("ANTAEUS_API_TOKEN", API_TOKEN.into()),
        ("ANTAEUS_LEASE_TIMEOUT_S", LEASE_S.into()),
        ("ANTAEUS_SIMULATED_LATENCY_MS", "1".into()),
        ("ANTAEUS_DB_POOL_SIZE", "4".into()),
        ("RUST_LOG", "error".into()),
    ]
}

/// Instance A: an `antaeus serve` process on `db` (which it seeds with the original data: 100
/// invoices due) that takes the event, starts its run, and is killed (SIGKILL) while charging,
/// two calls at a time of 200 ms each. Returns the run's id.
async fn instance_a_dies_while_charging(db: &TestDatabase) -> i64 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("http://127.0.0.1:{port}");
    let mut env = instance_env(db);
    env.retain(|(k, _)| *k != "ANTAEUS_SIMULATED_LATENCY_MS");
    env.extend([
        ("ANTAEUS_HTTP_ADDR", format!("127.0.0.1:{port}")),
        ("ANTAEUS_SIMULATED_LATENCY_MS", "200".into()),
        ("ANTAEUS_SIMULATED_JITTER_MS", "0".into()),
        ("ANTAEUS_CONCURRENCY", "2".into()),
    ]);
    let mut a: Child = Command::new(env!("CARGO_BIN_EXE_antaeus"))
        .arg("serve")
        .env_clear()
        .envs(env)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut started = None;
    for _ in 0..200 {
        let answer = client
            .post(format!("{address}{RUNS}"))
            .header("x-api-key", API_TOKEN)
            .header("content-type", "application/json")
            .body(EVENT)
            .send()
            .await;
        if let Ok(answer) = answer {
            assert_eq!(answer.status(), 202);
            let run: Value = answer.json().await.unwrap();
            started = run["id"].as_i64();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let run = started.expect("instance A never answered");
    for _ in 0..200 {
        let view: Value = client
            .get(format!("{address}{RUNS}/{run}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if view["counts"]["paid"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    a.kill().await.unwrap();
    run
}

/// Waits until run `id` has ended, at most `limit`; returns its JSON.
async fn wait_until_ended(app: &TestApp, id: i64, limit: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let run: Value = app.get(&format!("{RUNS}/{id}")).await.json().await.unwrap();
        if run["status"] != "RUNNING" || tokio::time::Instant::now() > deadline {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// No invoice left claimed, none charged under two keys.
async fn assert_nothing_lost_or_doubled(app: &TestApp) {
    let invoices = app
        .db
        .db
        .list_invoices(Default::default(), Default::default())
        .await
        .unwrap();
    for invoice in invoices {
        assert_ne!(invoice.status, InvoiceStatus::Charging, "{invoice:?}");
        let charged_keys: HashSet<String> = app
            .db
            .db
            .list_attempts(invoice.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|a| a.outcome == Some(AttemptOutcome::Charged))
            .map(|a| a.idempotency_key.to_string())
            .collect();
        assert!(charged_keys.len() <= 1, "{} charged twice", invoice.id);
    }
}
