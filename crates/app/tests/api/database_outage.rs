//! Drill: PostgreSQL goes away in the middle of a run. Every Antaeus connection is terminated
//! (`pg_terminate_backend`) and, for a few seconds, new connections fail. `serve` lives through
//! it: readiness answers 503 and the trigger 503 with `Retry-After` while the database is away;
//! once it is back the run finishes (or is resumed), with nothing lost or charged twice.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use antaeus_core::store::{AttemptStore, InvoiceStore};
use antaeus_data::testing::TestDatabase;
use antaeus_models::{AttemptOutcome, InvoiceStatus};
use serde_json::Value;

use crate::billing_runs::RUNS;
use crate::db_proxy::DbProxy;
use crate::helpers::{TestApp, spawn_app_on};

/// How long the database stays away.
const OUTAGE: Duration = Duration::from_secs(4);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_and_away_mid_run_serve_lives_and_the_run_finishes() {
    let Some(db) = TestDatabase::postgres().await else {
        eprintln!("SKIPPED: the PostgreSQL outage drill needs ANTAEUS_TEST_POSTGRES_URL");
        return;
    };
    let direct = db.url_string();
    let mut url = reqwest::Url::parse(&direct).unwrap();
    let upstream = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = DbProxy::start(upstream).await;
    url.set_port(Some(proxy.port)).unwrap();
    let proxied = url.to_string();
    let database = url.path().trim_start_matches('/').to_owned();
    let app = spawn_app_on(
        db,
        &[
            ("ANTAEUS_DATABASE_URL", proxied.as_str()),
            ("ANTAEUS_SIMULATED_LATENCY_MS", "100"),
            ("ANTAEUS_SIMULATED_JITTER_MS", "0"),
            ("ANTAEUS_CONCURRENCY", "4"),
            ("ANTAEUS_LEASE_TIMEOUT_S", "3"),
        ],
    )
    .await;

    let started = app
        .post(RUNS, "", &[("Idempotency-Key", "outage-run")])
        .await;
    assert_eq!(started.status(), 202);
    let run: Value = started.json().await.unwrap();
    let run = run["id"].as_i64().unwrap();
    wait_for_paid(&app, run, 10).await;

    // The database goes away: every connection of this database is terminated, and new ones
    // fail until it is back.
    let killed = terminate_backends(&direct, &database).await;
    proxy.cut();
    let away = Instant::now();
    let mut ready_503 = 0;
    let mut trigger_503 = 0;
    while away.elapsed() < OUTAGE {
        let asked = Instant::now();
        let ready = app.get("/rest/health/ready").await;
        assert_eq!(ready.status(), 503, "readiness while the database is away");
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "readiness took {:?}",
            asked.elapsed()
        );
        ready_503 += 1;
        let asked = Instant::now();
        let trigger = app
            .post(RUNS, "", &[("Idempotency-Key", "during-outage")])
            .await;
        assert_eq!(
            trigger.status(),
            503,
            "a trigger while the database is away"
        );
        assert!(
            trigger.headers().contains_key("retry-after"),
            "a 503 says when to come back"
        );
        assert!(
            asked.elapsed() < Duration::from_secs(5),
            "the trigger took {:?}",
            asked.elapsed()
        );
        trigger_503 += 1;
        assert_eq!(app.get("/rest/health").await.status(), 200, "serve lives");
    }
    proxy.restore();

    let ended = wait_for_end(&app, run, Duration::from_secs(60)).await;
    assert_eq!(ended["status"], "COMPLETED", "{ended}");
    // The trigger refused during the outage is accepted now.
    let later = app
        .post(RUNS, "", &[("Idempotency-Key", "during-outage")])
        .await;
    assert_eq!(later.status(), 202);
    let later: Value = later.json().await.unwrap();
    wait_for_end(&app, later["id"].as_i64().unwrap(), Duration::from_secs(60)).await;
    let census = assert_nothing_lost_or_doubled(&app).await;
    eprintln!(
        "outage drill: {killed} backends terminated, database away {OUTAGE:?}, {ready_503} readiness 503s, {trigger_503} trigger 503s; run {run}: {}; invoices {census}",
        ended["counts"]
    );
}

/// Terminates every backend connected to `database`; returns how many.
async fn terminate_backends(direct: &str, database: &str) -> usize {
    let output = tokio::process::Command::new("psql")
        .args([
            direct,
            "-At",
            "-c",
            &format!(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            ),
        ])
        .output()
        .await
        .expect("psql runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap()
}

async fn wait_for_paid(app: &TestApp, run: i64, paid: u64) {
    for _ in 0..300 {
        let view: Value = app
            .get(&format!("{RUNS}/{run}"))
            .await
            .json()
            .await
            .unwrap();
        if view["counts"]["paid"].as_u64().unwrap_or(0) >= paid {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("run {run} never paid {paid} invoices");
}

async fn wait_for_end(app: &TestApp, run: i64, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    loop {
        let view = app.get(&format!("{RUNS}/{run}")).await;
        if view.status() == 200 {
            let view: Value = view.json().await.unwrap();
            if view["status"] != "RUNNING" || Instant::now() > deadline {
                return view;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// No invoice left claimed, none charged under two keys, every PAID one charged once; returns
/// the invoices by status.
async fn assert_nothing_lost_or_doubled(app: &TestApp) -> String {
    let mut by_status = std::collections::BTreeMap::new();
    for invoice in app
        .db
        .db
        .list_invoices(Default::default(), Default::default())
        .await
        .unwrap()
    {
        *by_status.entry(invoice.status.to_string()).or_insert(0) += 1;
        assert_ne!(invoice.status, InvoiceStatus::Charging, "{invoice:?}");
        let log = app.db.db.list_attempts(invoice.id).await.unwrap();
        let charged: HashSet<String> = log
            .iter()
            .filter(|a| a.outcome == Some(AttemptOutcome::Charged))
            .map(|a| a.idempotency_key.to_string())
            .collect();
        assert!(charged.len() <= 1, "{} charged twice: {log:?}", invoice.id);
        if invoice.status == InvoiceStatus::Pending {
            assert!(invoice.next_attempt_at.is_some(), "left due: {invoice:?}");
        }
    }
    format!("{by_status:?}")
}
