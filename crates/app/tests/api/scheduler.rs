//! The built-in scheduler with an injected clock: the monthly and retry schedules fire at the
//! right instants, and two instances firing the same schedule make exactly one run.

use std::collections::HashMap;
use std::sync::Arc;

use antaeus_app::cron_schedule::CronSchedule;
use antaeus_app::settings::Settings;
use antaeus_app::settings::{DEFAULT_RETRY_SCHEDULE, DEFAULT_SCHEDULE, SchedulerSettings};
use antaeus_app::startup::scheduler;
use antaeus_app::wiring;
use antaeus_core::ManualClock;
use antaeus_core::billing::{RunExecutor, Triggered};
use antaeus_core::scheduler::Scheduler;
use antaeus_core::store::RunStore;
use antaeus_data::Backend;
use antaeus_data::testing::TestDatabase;
use antaeus_models::{PageRequest, RunTrigger};
use chrono::{DateTime, Utc};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// An instance's scheduler (its own billing service and executor) on `db`.
fn instance(db: &TestDatabase, clock: Arc<ManualClock>) -> Scheduler {
    let vars: HashMap<&str, String> = HashMap::from([
        ("ANTAEUS_DATABASE_URL", db.url_string()),
        ("ANTAEUS_SIMULATED_LATENCY_MS", "0".to_owned()),
    ]);
    let settings = Settings::from_lookup(|k| vars.get(k).cloned()).unwrap();
    let provider = wiring::provider(&settings.provider).unwrap();
    let billing = wiring::billing_service(&db.db, &provider, &settings, clock.clone());
    let defaults = SchedulerSettings {
        enabled: true,
        monthly: CronSchedule::parse(DEFAULT_SCHEDULE).unwrap(),
        retry: CronSchedule::parse(DEFAULT_RETRY_SCHEDULE).unwrap(),
        catch_up: std::time::Duration::from_secs(3_600),
    };
    scheduler(&defaults, Arc::new(RunExecutor::new(billing)), clock)
}

fn names(fires: &[antaeus_core::scheduler::Fire]) -> Vec<(String, DateTime<Utc>)> {
    fires.iter().map(|f| (f.name.clone(), f.at)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_schedules_fire_at_the_right_instants() {
    let db = TestDatabase::sqlite().await;
    let clock = Arc::new(ManualClock::new(at("2026-11-30T22:30:00Z")));
    let s = instance(&db, clock);
    assert_eq!(
        names(&s.fires_between(at("2026-11-30T22:30:00Z"), at("2026-11-30T23:30:00Z"))),
        [("retry".into(), at("2026-11-30T23:00:00Z"))]
    );
    assert_eq!(
        names(&s.fires_between(at("2026-11-30T23:30:00Z"), at("2026-12-01T00:00:00Z"))),
        [
            ("monthly".into(), at("2026-12-01T00:00:00Z")),
            ("retry".into(), at("2026-12-01T00:00:00Z"))
        ]
    );
    // Nothing between fire times; the end of the window is inclusive, the start exclusive.
    assert!(
        s.fires_between(at("2026-12-01T00:00:00Z"), at("2026-12-01T00:59:59Z"))
            .is_empty()
    );
    // A day down: the retry sweep fires once (for the latest hour), not 24 times.
    assert_eq!(
        names(&s.fires_between(at("2026-12-01T00:00:00Z"), at("2026-12-02T00:30:00Z"))),
        [("retry".into(), at("2026-12-02T00:00:00Z"))]
    );
    // The monthly run next fires on the first of the following month.
    assert_eq!(
        names(&s.fires_between(at("2026-12-02T00:00:00Z"), at("2027-01-01T00:00:00Z")))[0],
        ("monthly".into(), at("2027-01-01T00:00:00Z"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_firing_the_same_schedules_make_exactly_one_run_per_fire() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDatabase::new(backend).await else {
            continue;
        };
        let clock = Arc::new(ManualClock::new(at("2026-12-01T00:00:30Z")));
        let (a, b) = (instance(&db, clock.clone()), instance(&db, clock.clone()));
        let window = (at("2026-11-30T23:30:00Z"), at("2026-12-01T00:00:30Z"));
        let (fired_a, fired_b) =
            tokio::join!(a.tick(window.0, window.1), b.tick(window.0, window.1));
        let started = fired_a
            .iter()
            .chain(&fired_b)
            .filter(|(_, t)| matches!(t, Triggered::Started(_)))
            .count();
        assert_eq!(
            started, 2,
            "monthly and retry, each started by exactly one instance"
        );
        assert_eq!(
            fired_a.len() + fired_b.len(),
            4,
            "both instances saw both fires"
        );
        // Firing the same window again (a restart's catch-up) starts nothing new.
        let again = a.tick(window.0, window.1).await;
        assert!(
            again
                .iter()
                .all(|(_, t)| matches!(t, Triggered::Existing(_)))
        );
        let runs = db.db.list_runs(PageRequest::default()).await.unwrap();
        let mut keys: Vec<_> = runs.iter().map(|r| r.idempotency_key.to_string()).collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "scheduler-monthly-2026-12-01T00:00:00Z",
                "scheduler-retry-2026-12-01T00:00:00Z"
            ]
        );
        assert!(runs.iter().all(|r| r.trigger == RunTrigger::Scheduler));
    }
}
