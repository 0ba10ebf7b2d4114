//! What `/metrics` reads about runs, asserted identically on SQLite and PostgreSQL: the start of
//! the oldest RUNNING run (ended runs do not count), and whether a run with a key exists.

mod common;

use antaeus_core::store::{NewRun, RunEnd, RunStore};
use antaeus_data::testing::TestDatabase;
use antaeus_models::{IdempotencyKey, InstanceId, RunId, RunScope, RunStatus, RunTrigger};
use chrono::{DateTime, TimeDelta, Utc};

on_every_backend!(
    the_oldest_running_run_is_the_earliest_started_of_those_still_running,
    a_run_is_found_by_its_key,
);

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

async fn start(db: &TestDatabase, key: &str, minutes: i64) -> RunId {
    db.db
        .create_run(&NewRun {
            idempotency_key: IdempotencyKey::parse(key).unwrap(),
            trigger: RunTrigger::Scheduler,
            instance: InstanceId::parse("gauges").unwrap(),
            now: t0() + TimeDelta::minutes(minutes),
            request_fingerprint: "scope=all".into(),
            scope: RunScope::All,
        })
        .await
        .unwrap()
        .0
        .id
}

async fn end(db: &TestDatabase, id: RunId, status: RunStatus) {
    let end = RunEnd {
        status,
        abort_reason: (status == RunStatus::Aborted).then(|| "provider outage".into()),
        now: t0() + TimeDelta::hours(1),
    };
    db.db.finish_run(id, &end).await.unwrap();
}

async fn the_oldest_running_run_is_the_earliest_started_of_those_still_running(db: TestDatabase) {
    assert_eq!(
        db.db.oldest_running_run_start().await.unwrap(),
        None,
        "no run"
    );
    let first = start(&db, "first", 0).await;
    let second = start(&db, "second", 10).await;
    let third = start(&db, "third", 20).await;
    assert_eq!(db.db.oldest_running_run_start().await.unwrap(), Some(t0()));
    end(&db, first, RunStatus::Completed).await;
    assert_eq!(
        db.db.oldest_running_run_start().await.unwrap(),
        Some(t0() + TimeDelta::minutes(10)),
        "a completed run no longer counts"
    );
    end(&db, second, RunStatus::Aborted).await;
    assert_eq!(
        db.db.oldest_running_run_start().await.unwrap(),
        Some(t0() + TimeDelta::minutes(20)),
        "nor does an aborted one"
    );
    end(&db, third, RunStatus::Completed).await;
    assert_eq!(db.db.oldest_running_run_start().await.unwrap(), None);
}

async fn a_run_is_found_by_its_key(db: TestDatabase) {
    let key = "scheduler-monthly-2026-12-01T00:00:00Z";
    assert!(!db.db.run_exists(key).await.unwrap());
    start(&db, key, 0).await;
    assert!(db.db.run_exists(key).await.unwrap());
    assert!(
        !db.db
            .run_exists("scheduler-monthly-2027-01-01T00:00:00Z")
            .await
            .unwrap()
    );
}
