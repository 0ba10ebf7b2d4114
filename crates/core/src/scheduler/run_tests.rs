//! `Scheduler::run` over mocked storage: a fire whose run could not be created (the database
//! was down at the fire time) is retried, superseded by a newer fire, or given up on shutdown.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use antaeus_models::{BillingRun, RunCounts, RunId, RunScope, RunStatus};
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::*;
use crate::billing::{BillingConfig, BillingDeps, BillingService, SeededRandom};
use crate::payment_provider::MockPaymentProvider;
use crate::store::{
    Backlog, MockBillingStore, MockInstanceStore, MockRunStore, NewRun, RecordReport, StoreError,
};
use crate::{ManualClock, Shutdown, ShutdownTrigger};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

/// A schedule that fires at fixed instants.
struct FiresAt(Vec<DateTime<Utc>>);

impl FireSchedule for FiresAt {
    fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.iter().copied().find(|t| *t > after)
    }
}

/// What `create_run` answers for a key: `Ok(fingerprint)` names the request that made the run.
type CreateAnswer = Result<String, StoreError>;

/// Answers `create_run` for a key and the number of earlier calls with it.
type Script = Box<dyn Fn(&str, usize) -> CreateAnswer + Send + Sync>;

/// The run store's side of the test: every `create_run` call, and a script of answers.
struct Runs {
    /// The key of each call and when it came.
    calls: Mutex<Vec<(String, Instant)>>,
    /// The script of answers.
    answer: Script,
    /// Woken when a run is created.
    created: Notify,
}

impl Runs {
    fn new(answer: impl Fn(&str, usize) -> CreateAnswer + Send + Sync + 'static) -> Arc<Self> {
        Arc::new(Self {
            calls: Mutex::new(Vec::new()),
            answer: Box::new(answer),
            created: Notify::new(),
        })
    }

    fn calls(&self) -> Vec<(String, Instant)> {
        self.calls.lock().unwrap().clone()
    }

    fn keys(&self) -> Vec<String> {
        self.calls().into_iter().map(|(key, _)| key).collect()
    }

    fn create(&self, new: &NewRun) -> Result<(BillingRun, bool), StoreError> {
        let key = new.idempotency_key.as_str().to_owned();
        let earlier = {
            let mut calls = self.calls.lock().unwrap();
            let earlier = calls.iter().filter(|(k, _)| *k == key).count();
            calls.push((key.clone(), Instant::now()));
            earlier
        };
        let fingerprint = (self.answer)(&key, earlier)?;
        let created = fingerprint == new.request_fingerprint;
        if created {
            self.created.notify_one();
        }
        let run = BillingRun {
            id: RunId::new(1).unwrap(),
            idempotency_key: new.idempotency_key.clone(),
            trigger: new.trigger,
            status: RunStatus::Running,
            instance_id: new.instance.to_string(),
            started_at: new.now,
            finished_at: None,
            abort_reason: None,
            counts: RunCounts::default(),
            request_fingerprint: Some(fingerprint),
            scope: new.scope,
        };
        Ok((run, created))
    }
}

fn down() -> StoreError {
    StoreError::Unavailable("the database is down".into())
}

/// The fingerprint of the scheduler's requests (whatever the schedule: each charges all due).
fn scheduled(_schedule: &str) -> CreateAnswer {
    Ok(crate::billing::RunRequest::fingerprint_of(RunScope::All))
}

/// An executor over mocked storage in which a started run finds nothing due and completes.
fn executor(runs: &Arc<Runs>, clock: Arc<ManualClock>) -> Arc<RunExecutor> {
    let mut run_store = MockRunStore::new();
    let r = runs.clone();
    run_store
        .expect_create_run()
        .returning(move |new| r.create(new));
    run_store.expect_adopt_run().returning(|_, _, _| Ok(None));
    run_store.expect_finish_run().returning(|id, end| {
        Ok(BillingRun {
            id,
            idempotency_key: IdempotencyKey::parse("finished").unwrap(),
            trigger: RunTrigger::Scheduler,
            status: end.status,
            instance_id: "test-00000001".into(),
            started_at: end.now,
            finished_at: Some(end.now),
            abort_reason: end.abort_reason.clone(),
            counts: RunCounts::default(),
            request_fingerprint: None,
            scope: RunScope::All,
        })
    });
    let mut billing = MockBillingStore::new();
    billing.expect_claim().returning(|_| Ok(Vec::new()));
    billing
        .expect_record()
        .returning(|_, _| Ok(RecordReport::default()));
    billing
        .expect_backlog()
        .returning(|_, _, _| Ok(Backlog::default()));
    let mut instances = MockInstanceStore::new();
    instances.expect_heartbeat().returning(|_| Ok(()));
    instances.expect_retire().returning(|_| Ok(()));
    let deps = BillingDeps {
        billing: Arc::new(billing),
        runs: Arc::new(run_store),
        instances: Arc::new(instances),
        provider: Arc::new(MockPaymentProvider::new()),
        clock,
        random: Arc::new(SeededRandom::new(1)),
    };
    Arc::new(RunExecutor::new(BillingService::new(
        deps,
        BillingConfig::default(),
        "test",
    )))
}

/// A scheduler running over `runs`: one schedule, firing at `fires`, with the clock at the
/// first fire and the last hour made up.
struct Running {
    runs: Arc<Runs>,
    clock: Arc<ManualClock>,
    executor: Arc<RunExecutor>,
    stop: ShutdownTrigger,
    task: JoinHandle<()>,
}

impl Running {
    fn start(runs: &Arc<Runs>, name: &str, fires: &[&str], backoff: FireBackoff) -> Self {
        let fires: Vec<DateTime<Utc>> = fires.iter().map(|t| at(t)).collect();
        let clock = Arc::new(ManualClock::new(fires[0]));
        let executor = executor(runs, clock.clone());
        let schedule = ScheduledRuns {
            name: name.into(),
            schedule: Arc::new(FiresAt(fires)),
            scope: RunScope::All,
        };
        let scheduler = Scheduler::new(
            executor.clone(),
            vec![schedule],
            clock.clone(),
            TimeDelta::hours(1),
        )
        .with_fire_backoff(backoff);
        let (stop, shutdown) = Shutdown::new();
        Self {
            runs: runs.clone(),
            clock,
            executor,
            stop,
            task: tokio::spawn(scheduler.run(shutdown)),
        }
    }

    /// Waits (in paused time) until a run is created; false if none is within an hour.
    async fn run_created(&self) -> bool {
        let created = self.runs.created.notified();
        tokio::time::timeout(Duration::from_secs(3_600), created)
            .await
            .is_ok()
    }

    /// Stops the scheduler and the runs it started.
    async fn stop(self) {
        self.stop.trigger();
        self.task.await.unwrap();
        self.executor.stop().await;
    }
}

/// A database down for the first `tries` calls of every key.
fn down_for(tries: usize, schedule: &'static str) -> Arc<Runs> {
    Runs::new(move |_, earlier| {
        if earlier < tries {
            Err(down())
        } else {
            scheduled(schedule)
        }
    })
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_fire_that_failed_is_retried_until_its_run_starts() {
    // The database is down at 00:00 on the 1st and for the next three tries.
    let runs = down_for(4, "monthly");
    let fires = ["2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"];
    let scheduler = Running::start(&runs, "monthly", &fires, FireBackoff::default());

    let created = scheduler.run_created().await;

    assert!(created, "the fire was never retried: {:?}", runs.keys());
    assert_eq!(
        runs.keys(),
        ["scheduler-monthly-2026-12-01T00:00:00Z"; 5],
        "the run is created for the original fire time"
    );
    let calls = runs.calls();
    let waits: Vec<Duration> = calls.windows(2).map(|w| w[1].1 - w[0].1).collect();
    let expected = [1, 2, 4, 8].map(Duration::from_secs);
    assert_eq!(waits, expected, "backoff doubling from a second");
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_newer_fire_supersedes_an_older_one_still_waiting_to_be_retried() {
    // The 00:00 sweep never gets its run; the 01:00 one does.
    let runs = Runs::new(|key, _| {
        if key.ends_with("T00:00:00Z") {
            Err(down())
        } else {
            scheduled("retry")
        }
    });
    let fires = ["2026-12-01T00:00:00Z", "2026-12-01T01:00:00Z"];
    let scheduler = Running::start(&runs, "retry", &fires, FireBackoff::default());
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(runs.keys().len(), 4, "tried at 0, 1, 3 and 7 s");

    scheduler.clock.set(at(fires[1]));
    assert!(scheduler.run_created().await, "{:?}", runs.keys());
    tokio::time::sleep(Duration::from_secs(600)).await;

    let keys = runs.keys();
    let newer = "scheduler-retry-2026-12-01T01:00:00Z";
    let first_newer = keys.iter().position(|k| k == newer).unwrap();
    assert_eq!(
        &keys[first_newer..],
        [newer],
        "the 00:00 fire is not tried once the 01:00 one came, and a started run is not triggered again"
    );
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_retrying_a_failed_fire() {
    let runs = down_for(usize::MAX, "monthly");
    let fires = ["2026-12-01T00:00:00Z"];
    let scheduler = Running::start(&runs, "monthly", &fires, FireBackoff::default());
    tokio::time::sleep(Duration::from_secs(10)).await;
    let tried = runs.keys().len();
    assert_eq!(tried, 4, "tried at 0, 1, 3 and 7 s");

    scheduler.stop.trigger();
    let stopped = tokio::time::timeout(Duration::from_millis(10), scheduler.task).await;
    tokio::time::sleep(Duration::from_secs(600)).await;

    assert!(stopped.is_ok(), "the scheduler stops at once");
    assert_eq!(runs.keys().len(), tried, "no try after shutdown");
}

#[tokio::test(start_paused = true)]
async fn a_fire_whose_key_another_request_took_is_not_retried() {
    let runs = Runs::new(|_, _| Ok("api:someone else".into()));
    let fires = ["2026-12-01T00:00:00Z"];
    let scheduler = Running::start(&runs, "monthly", &fires, FireBackoff::default());

    tokio::time::sleep(Duration::from_secs(600)).await;

    assert_eq!(runs.keys(), ["scheduler-monthly-2026-12-01T00:00:00Z"]);
    scheduler.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_backoff_is_configurable() {
    let runs = down_for(3, "monthly");
    let backoff = FireBackoff {
        first: Duration::from_secs(5),
        cap: Duration::from_secs(7),
    };
    let scheduler = Running::start(&runs, "monthly", &["2026-12-01T00:00:00Z"], backoff);

    assert!(scheduler.run_created().await, "{:?}", runs.keys());

    let calls = runs.calls();
    let waits: Vec<Duration> = calls.windows(2).map(|w| w[1].1 - w[0].1).collect();
    assert_eq!(waits, [5, 7, 7].map(Duration::from_secs), "capped at 7 s");
    scheduler.stop().await;
}
