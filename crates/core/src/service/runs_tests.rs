use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use antaeus_models::{
    AttemptOutcome, BillingRun, CallCounts, IdempotencyKey, RunCounts, RunId, RunScope, RunStatus,
    RunTrigger,
};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::ManualClock;
use crate::billing::{BillingConfig, BillingDeps, BillingService, SeededRandom};
use crate::payment_provider::MockPaymentProvider;
use crate::store::{
    MockAttemptStore, MockBillingStore, MockInstanceStore, MockInvoiceStore, MockRunStore,
    StoreError,
};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
}

fn run(id: i64, status: RunStatus) -> BillingRun {
    BillingRun {
        id: RunId::new(id).unwrap(),
        idempotency_key: IdempotencyKey::parse(format!("k{id}")).unwrap(),
        trigger: RunTrigger::Api,
        status,
        instance_id: "test-00000001".into(),
        started_at: start(),
        finished_at: None,
        abort_reason: None,
        counts: RunCounts::default(),
        request_fingerprint: None,
        scope: RunScope::All,
    }
}

/// `n` calls charged, and `n` invoices still due: each count says how many counts came before.
fn calls(n: u64) -> CallCounts {
    CallCounts {
        by_outcome: vec![(AttemptOutcome::Charged, n)],
        in_flight: 0,
    }
}

/// Run 1's store: the run is RUNNING until `ends` says otherwise.
struct Store {
    clock: Arc<ManualClock>,
    /// What a count of the calls costs on the clock.
    calls_cost: TimeDelta,
    /// What a count of the due invoices costs on the clock.
    due_cost: TimeDelta,
    /// Counts of the calls made so far.
    counted: Arc<AtomicU64>,
    /// Whether the run has ended.
    ended: Arc<std::sync::atomic::AtomicBool>,
}

impl Store {
    fn new(calls_cost: TimeDelta, due_cost: TimeDelta) -> Self {
        Self {
            clock: Arc::new(ManualClock::new(start())),
            calls_cost,
            due_cost,
            counted: Arc::default(),
            ended: Arc::default(),
        }
    }

    fn service(&self) -> RunService {
        let mut runs = MockRunStore::new();
        let ended = self.ended.clone();
        runs.expect_fetch_run().returning(move |id| {
            let status = if ended.load(Ordering::SeqCst) {
                RunStatus::Completed
            } else {
                RunStatus::Running
            };
            Ok(Some(run(id.get(), status)))
        });
        let mut attempts = MockAttemptStore::new();
        let (clock, cost, counted) = (self.clock.clone(), self.calls_cost, self.counted.clone());
        attempts.expect_run_calls().returning(move |_| {
            clock.advance(cost);
            Ok(calls(counted.fetch_add(1, Ordering::SeqCst) + 1))
        });
        let mut invoices = MockInvoiceStore::new();
        let (clock, cost, counted) = (self.clock.clone(), self.due_cost, self.counted.clone());
        invoices.expect_count_due().returning(move |_| {
            clock.advance(cost);
            Ok(counted.load(Ordering::SeqCst))
        });
        self.service_over(runs, attempts, invoices)
    }

    fn service_over(
        &self,
        runs: MockRunStore,
        attempts: MockAttemptStore,
        invoices: MockInvoiceStore,
    ) -> RunService {
        let billing = BillingService::new(
            BillingDeps {
                billing: Arc::new(MockBillingStore::new()),
                runs: Arc::new(MockRunStore::new()),
                instances: Arc::new(MockInstanceStore::new()),
                provider: Arc::new(MockPaymentProvider::new()),
                clock: self.clock.clone(),
                random: Arc::new(SeededRandom::new(1)),
            },
            BillingConfig::default(),
            "test",
        );
        RunService::new(
            Arc::new(runs),
            Arc::new(attempts),
            Arc::new(invoices),
            Arc::new(RunExecutor::new(billing)),
            self.clock.clone(),
        )
    }

    fn counts(&self) -> u64 {
        self.counted.load(Ordering::SeqCst)
    }
}

/// A run store whose every run is RUNNING.
fn always_running() -> MockRunStore {
    let mut runs = MockRunStore::new();
    runs.expect_fetch_run()
        .returning(|id| Ok(Some(run(id.get(), RunStatus::Running))));
    runs
}

fn id(n: i64) -> RunId {
    RunId::new(n).unwrap()
}

#[tokio::test]
async fn polls_of_a_large_running_run_share_a_count_for_ten_times_its_cost() {
    // 0.7 s to count the calls and 0.2 s to count what is due, as at a million invoices.
    let store = Store::new(TimeDelta::milliseconds(700), TimeDelta::milliseconds(200));
    let service = store.service();
    let first = service.fetch(id(1)).await.unwrap();
    assert_eq!(first.calls, calls(1));
    assert_eq!(first.remaining, Some(1));
    assert_eq!(first.counted_at, start());
    // Polled every half second for the next 8.5 s: nothing is counted again.
    for _ in 0..17 {
        store.clock.advance(TimeDelta::milliseconds(500));
        let again = service.fetch(id(1)).await.unwrap();
        assert_eq!((again.calls, again.remaining), (calls(1), Some(1)));
        assert_eq!(again.counted_at, start());
    }
    assert_eq!(store.counts(), 1);
    // Nine seconds after the first count ended, ten times its 0.9 s: counted again.
    store.clock.advance(TimeDelta::milliseconds(500));
    let recounted = service.fetch(id(1)).await.unwrap();
    assert_eq!(store.counts(), 2);
    assert_eq!(recounted.calls, calls(2));
    assert_eq!(recounted.remaining, Some(2));
    assert_eq!(
        recounted.counted_at,
        start() + TimeDelta::milliseconds(900 + 18 * 500)
    );
}

#[tokio::test]
async fn a_cheap_count_is_live() {
    let store = Store::new(TimeDelta::zero(), TimeDelta::zero());
    let service = store.service();
    for n in 1..=3 {
        let view = service.fetch(id(1)).await.unwrap();
        assert_eq!(view.calls, calls(n));
        assert_eq!(view.remaining, Some(n));
    }
    assert_eq!(store.counts(), 3);
}

#[tokio::test]
async fn a_count_is_kept_fifteen_seconds_at_most() {
    // A count of 5 s would be kept 50 s by its cost alone.
    let store = Store::new(TimeDelta::seconds(5), TimeDelta::zero());
    let service = store.service();
    service.fetch(id(1)).await.unwrap();
    store.clock.advance(TimeDelta::seconds(14));
    service.fetch(id(1)).await.unwrap();
    assert_eq!(store.counts(), 1);
    store.clock.advance(TimeDelta::seconds(1));
    let view = service.fetch(id(1)).await.unwrap();
    assert_eq!(store.counts(), 2);
    assert_eq!(view.calls, calls(2));
}

#[tokio::test]
async fn the_end_of_a_run_is_counted_afresh() {
    let store = Store::new(TimeDelta::seconds(1), TimeDelta::zero());
    let service = store.service();
    let running = service.fetch(id(1)).await.unwrap();
    assert_eq!(running.remaining, Some(1));
    store.ended.store(true, Ordering::SeqCst);
    store.clock.advance(TimeDelta::milliseconds(100));
    let ended = service.fetch(id(1)).await.unwrap();
    assert_eq!(ended.run.status, RunStatus::Completed);
    assert_eq!(
        ended.calls,
        calls(2),
        "the final figures are counted, not kept"
    );
    assert_eq!(ended.remaining, None);
}

#[tokio::test]
async fn each_run_is_counted_on_its_own() {
    let store = Store::new(TimeDelta::seconds(1), TimeDelta::zero());
    let service = store.service();
    assert_eq!(service.fetch(id(1)).await.unwrap().calls, calls(1));
    assert_eq!(service.fetch(id(2)).await.unwrap().calls, calls(2));
    assert_eq!(service.fetch(id(1)).await.unwrap().calls, calls(1));
    assert_eq!(store.counts(), 2);
}

#[tokio::test]
async fn a_failed_count_is_not_kept() {
    let store = Store::new(TimeDelta::zero(), TimeDelta::zero());
    let runs = always_running();
    let mut attempts = MockAttemptStore::new();
    let clock = store.clock.clone();
    let mut failed = false;
    attempts.expect_run_calls().times(2).returning(move |_| {
        clock.advance(TimeDelta::seconds(1));
        if failed {
            Ok(calls(7))
        } else {
            failed = true;
            Err(StoreError::Corrupt("the database went away".into()))
        }
    });
    let mut invoices = MockInvoiceStore::new();
    invoices.expect_count_due().times(1).returning(|_| Ok(3));
    let service = store.service_over(runs, attempts, invoices);
    assert!(service.fetch(id(1)).await.is_err());
    let view = service.fetch(id(1)).await.unwrap();
    assert_eq!((view.calls, view.remaining), (calls(7), Some(3)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_during_a_count_wait_for_it() {
    let store = Store::new(TimeDelta::seconds(1), TimeDelta::zero());
    let (gate, keeper) = gate();
    let mut attempts = MockAttemptStore::new();
    let clock = store.clock.clone();
    attempts.expect_run_calls().times(1).returning(move |_| {
        gate.hold();
        clock.advance(TimeDelta::seconds(1));
        Ok(calls(1))
    });
    let mut invoices = MockInvoiceStore::new();
    invoices.expect_count_due().times(1).returning(|_| Ok(5));
    let service = store.service_over(always_running(), attempts, invoices);
    let (first, others) = polls_during_a_count(&service, &keeper).await;
    assert!(
        others.iter().all(|p| !p.is_finished()),
        "the other polls wait for the count in progress"
    );
    keeper.release.send(()).unwrap();
    for poll in std::iter::once(first).chain(others) {
        let view = poll.await.unwrap().unwrap();
        assert_eq!((view.calls, view.remaining), (calls(1), Some(5)));
    }
}

#[tokio::test]
async fn a_clock_set_back_discards_the_count() {
    let store = Store::new(TimeDelta::seconds(1), TimeDelta::zero());
    let service = store.service();
    service.fetch(id(1)).await.unwrap();
    store.clock.set(start() - TimeDelta::seconds(30));
    let view = service.fetch(id(1)).await.unwrap();
    assert_eq!(store.counts(), 2, "a count from the future is not served");
    assert_eq!(view.counted_at, start() - TimeDelta::seconds(30));
}

#[tokio::test]
async fn runs_no_longer_kept_are_forgotten_and_kept_ones_stay() {
    // Run 1's count takes a second: kept 10 s, while 199 cheap runs come and go.
    let store = Store::new(TimeDelta::zero(), TimeDelta::zero());
    let runs = always_running();
    let mut attempts = MockAttemptStore::new();
    let (clock, counted) = (store.clock.clone(), store.counted.clone());
    attempts.expect_run_calls().returning(move |run| {
        if run.get() == 1 {
            clock.advance(TimeDelta::seconds(1));
        }
        Ok(calls(counted.fetch_add(1, Ordering::SeqCst) + 1))
    });
    let mut invoices = MockInvoiceStore::new();
    invoices.expect_count_due().returning(|_| Ok(0));
    let service = store.service_over(runs, attempts, invoices);
    assert_eq!(service.fetch(id(1)).await.unwrap().calls, calls(1));
    for n in 2..=200 {
        service.fetch(id(n)).await.unwrap();
    }
    let remembered = service.figures.remembered();
    assert!(remembered <= 64, "{remembered} runs remembered");
    assert_eq!(
        service.fetch(id(1)).await.unwrap().calls,
        calls(1),
        "the run still kept is not forgotten"
    );
    assert_eq!(store.counts(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polls_waiting_for_a_count_that_fails_fail_with_it() {
    let store = Store::new(TimeDelta::zero(), TimeDelta::zero());
    let (gate, keeper) = gate();
    let mut attempts = MockAttemptStore::new();
    let clock = store.clock.clone();
    let mut failed = false;
    attempts.expect_run_calls().times(2).returning(move |_| {
        if failed {
            return Ok(calls(9));
        }
        failed = true;
        gate.hold();
        // A connection that never came: the pool's timeout.
        clock.advance(TimeDelta::seconds(30));
        Err(StoreError::Unavailable("no connection within 30 s".into()))
    });
    let mut invoices = MockInvoiceStore::new();
    invoices.expect_count_due().times(1).returning(|_| Ok(4));
    let service = store.service_over(always_running(), attempts, invoices);
    let (first, others) = polls_during_a_count(&service, &keeper).await;
    keeper.release.send(()).unwrap();
    let first = first.await.unwrap().unwrap_err();
    assert!(
        matches!(first, ServiceError::Store(StoreError::Unavailable(_))),
        "{first:?}"
    );
    for poll in others {
        let shared = poll.await.unwrap().unwrap_err();
        let ServiceError::Store(StoreError::Unavailable(cause)) = &shared else {
            panic!("the same kind of error: {shared:?}");
        };
        assert!(
            cause.to_string().contains("no connection within 30 s"),
            "{cause}"
        );
    }
    // A poll after the failure counts again.
    let view = service.fetch(id(1)).await.unwrap();
    assert_eq!((view.calls, view.remaining), (calls(9), Some(4)));
}

/// Holds a count in progress, on its worker thread, until the test lets it go.
struct Gate {
    started: std::sync::Mutex<std::sync::mpsc::Sender<()>>,
    released: std::sync::Mutex<std::sync::mpsc::Receiver<()>>,
}

impl Gate {
    /// Says the count started, and waits to be let go.
    fn hold(&self) {
        self.started.lock().unwrap().send(()).unwrap();
        self.released.lock().unwrap().recv().unwrap();
    }
}

/// The test's side of a [`Gate`].
struct GateKeeper {
    counting: std::sync::mpsc::Receiver<()>,
    release: std::sync::mpsc::Sender<()>,
}

fn gate() -> (Gate, GateKeeper) {
    let (started, counting) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel();
    let gate = Gate {
        started: std::sync::Mutex::new(started),
        released: std::sync::Mutex::new(released),
    };
    (gate, GateKeeper { counting, release })
}

type Poll = tokio::task::JoinHandle<Result<RunView, ServiceError>>;

/// Four polls of run 1: the first starts a count that `keeper`'s gate holds, the other three
/// arrive while it is held (and have had 200 ms to finish, were they not waiting).
async fn polls_during_a_count(service: &RunService, keeper: &GateKeeper) -> (Poll, Vec<Poll>) {
    let poll = || {
        let service = service.clone();
        tokio::spawn(async move { service.fetch(id(1)).await })
    };
    let first = poll();
    keeper.counting.recv().unwrap();
    let others: Vec<Poll> = (0..3).map(|_| poll()).collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    (first, others)
}
