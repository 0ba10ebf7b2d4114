//! The outbox worker against mocks: what each outcome of a delivery settles.

use antaeus_models::{EventData, EventKind, Notification};

use super::*;
use crate::ManualClock;
use crate::clock::test_start as now;
use crate::notify::{MockFailureNotifier, NotifyError};
use crate::store::MockOutboxStore;

fn event(seq: i64, failures: u32) -> OutboxEvent {
    OutboxEvent {
        seq,
        id: format!("evt_{seq}"),
        notification: Ok(Notification {
            id: format!("evt_{seq}"),
            kind: EventKind::ChargeFailed,
            created_at: now(),
            data: EventData {
                invoice: None,
                run: None,
            },
        }),
        failures,
    }
}

fn unreadable(seq: i64, failures: u32) -> OutboxEvent {
    OutboxEvent {
        notification: Err("unknown event type \"invoice.refunded\"".into()),
        ..event(seq, failures)
    }
}

/// A store whose one take hands out `events`.
fn taking(events: Vec<OutboxEvent>) -> MockOutboxStore {
    let mut store = MockOutboxStore::new();
    store
        .expect_take_due_events()
        .times(1)
        .return_once(move |_, _, _| Ok(events));
    store
}

/// Expects one write recording exactly the deliveries `seqs`, in any order.
fn expect_delivered(store: &mut MockOutboxStore, seqs: Vec<i64>) {
    store
        .expect_mark_delivered()
        .withf(move |marked, _| {
            let mut marked = marked.to_vec();
            marked.sort_unstable();
            marked == seqs
        })
        .times(1)
        .returning(|_, _| Ok(()));
}

/// Expects event `seq` to fail once, for a reason containing `reason`, and to be retried
/// `wait` from now.
fn expect_retry(store: &mut MockOutboxStore, seq: i64, reason: &'static str, wait: TimeDelta) {
    store
        .expect_mark_failed()
        .withf(move |s, err, at| *s == seq && err.contains(reason) && *at == now() + wait)
        .times(1)
        .returning(|_, _, _| Ok(()));
}

/// A receiver that refuses `evt_<refused>` and takes every other event.
fn receiver(refused: &'static str) -> MockFailureNotifier {
    let mut notifier = MockFailureNotifier::new();
    notifier.expect_notify().returning(move |e| {
        if e.id == refused {
            Err(NotifyError::Unavailable("receiver down".into()))
        } else {
            Ok(())
        }
    });
    notifier
}

fn worker(
    store: MockOutboxStore,
    notifier: MockFailureNotifier,
    config: OutboxConfig,
) -> OutboxWorker {
    OutboxWorker::new(
        Arc::new(store),
        Arc::new(notifier),
        Arc::new(ManualClock::new(now())),
        config,
    )
}

#[tokio::test]
async fn delivered_events_are_marked_and_failed_ones_rescheduled_with_growing_backoff() {
    let mut store = taking(vec![event(1, 0), event(2, 3)]);
    store
        .expect_mark_delivered()
        .withf(|seqs, at| seqs == [1] && *at == now())
        .times(1)
        .returning(|_, _| Ok(()));
    // Fourth failure: 5 s × 2^3 = 40 s.
    expect_retry(&mut store, 2, "down", TimeDelta::seconds(40));
    let report = worker(store, receiver("evt_2"), OutboxConfig::default())
        .try_deliver()
        .await
        .unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            delivered: 1,
            failed: 1,
            dead: 0
        }
    );
}

#[tokio::test]
async fn an_unreadable_event_is_a_failure_of_its_own_and_the_others_are_delivered() {
    let mut store = taking(vec![unreadable(1, 0), event(2, 0), event(3, 0)]);
    expect_delivered(&mut store, vec![2, 3]);
    // Retried with backoff like any failure, the parse error kept as the reason.
    expect_retry(&mut store, 1, "invoice.refunded", TimeDelta::seconds(5));
    let mut notifier = MockFailureNotifier::new();
    notifier
        .expect_notify()
        .withf(|e| e.id != "evt_1")
        .times(2)
        .returning(|_| Ok(()));
    let report = worker(store, notifier, OutboxConfig::default())
        .try_deliver()
        .await
        .unwrap();
    assert_eq!((report.delivered, report.failed, report.dead), (2, 1, 0));
}

#[tokio::test]
async fn an_event_failing_for_the_last_allowed_time_is_dead_and_never_rescheduled() {
    let config = OutboxConfig {
        max_failures: 3,
        ..OutboxConfig::default()
    };
    let mut store = taking(vec![event(1, 2), unreadable(2, 2), event(3, 1)]);
    store
        .expect_mark_dead()
        .withf(|seq, err, at| {
            ((*seq == 1 && err.contains("down")) || (*seq == 2 && err.contains("refunded")))
                && *at == now()
        })
        .times(2)
        .returning(|_, _, _| Ok(()));
    // Its second failure: still retried, after 10 s.
    expect_retry(&mut store, 3, "410", TimeDelta::seconds(10));
    let mut notifier = MockFailureNotifier::new();
    notifier
        .expect_notify()
        .returning(|_| Err(NotifyError::Rejected("410 Gone: receiver down".into())));
    let report = worker(store, notifier, config).try_deliver().await.unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            delivered: 0,
            failed: 1,
            dead: 2
        }
    );
}

#[tokio::test]
async fn a_round_delivers_and_records_its_deliveries_in_one_write() {
    let mut store = taking((1..=20).map(|seq| event(seq, 0)).collect());
    expect_delivered(&mut store, (1..=20).collect::<Vec<i64>>());
    let report = worker(store, receiver("none"), OutboxConfig::default())
        .try_deliver()
        .await
        .unwrap();
    assert_eq!(report.delivered, 20);
}

#[tokio::test]
async fn a_failure_to_record_the_deliveries_fails_the_round_and_the_events_stay_leased() {
    let mut store = taking(vec![event(1, 0), event(2, 0)]);
    store
        .expect_mark_delivered()
        .times(1)
        .returning(|_, _| Err(StoreError::Corrupt("lost".into())));
    let failed = worker(store, receiver("none"), OutboxConfig::default())
        .try_deliver()
        .await;
    assert!(
        failed.is_err(),
        "the events stay leased and are delivered again: {failed:?}"
    );
}

/// A receiver that takes every event after a short wait, counting how many it held at once.
#[derive(Default)]
struct CountingReceiver {
    now: std::sync::atomic::AtomicUsize,
    most: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl FailureNotifier for CountingReceiver {
    async fn notify(&self, _: &Notification) -> Result<(), crate::notify::NotifyError> {
        use std::sync::atomic::Ordering::SeqCst;
        let held = self.now.fetch_add(1, SeqCst) + 1;
        self.most.fetch_max(held, SeqCst);
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        self.now.fetch_sub(1, SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn a_backlog_is_taken_in_growing_rounds_delivered_a_batch_at_a_time() {
    let (store, asked, marked) = backlog_store(1_000);
    let receiver = Arc::new(CountingReceiver::default());
    let config = OutboxConfig {
        batch: 10,
        lanes: 1,
        max_round: 40,
        idle_poll: std::time::Duration::from_secs(3600),
        ..OutboxConfig::default()
    };
    let worker = OutboxWorker::new(
        Arc::new(store),
        receiver.clone(),
        Arc::new(ManualClock::new(now())),
        config,
    );
    let (stop, signal) = crate::Shutdown::new();
    let running = tokio::spawn(worker.run(signal));
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        while marked.lock().unwrap().iter().sum::<usize>() < 1_000 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the backlog is delivered");
    stop.trigger();
    running.await.unwrap();

    let asked = asked.lock().unwrap().clone();
    // 10, 20, 40, then 40 a round until the last, short round; then back to 10 (idle).
    assert_eq!(&asked[..4], &[10, 20, 40, 40]);
    assert!(asked.iter().all(|&n| n <= 40), "{asked:?}");
    let rounds_at_most = 3 + (1_000 - 70) / 40 + 2;
    assert!(asked.len() <= rounds_at_most, "{} rounds", asked.len());
    // Each round's deliveries are recorded in one write, and never more than a batch is in
    // flight at once.
    assert_eq!(marked.lock().unwrap().iter().sum::<usize>(), 1_000);
    assert!(marked.lock().unwrap().iter().all(|&n| n <= 40));
    let most = receiver.most.load(std::sync::atomic::Ordering::SeqCst);
    assert!((2..=10).contains(&most), "{most} deliveries at once");
}

/// The next `limit` events of a backlog of `backlog` (seqs 1..=backlog), `next` the first not
/// yet handed out.
fn hand_out(next: &std::sync::Mutex<i64>, backlog: i64, limit: u32) -> Vec<OutboxEvent> {
    let mut next = next.lock().unwrap();
    let first = *next;
    let last = (first + i64::from(limit) - 1).min(backlog);
    *next = last.max(first - 1) + 1;
    (first..=last).map(|seq| event(seq, 0)).collect()
}

/// What a backlog store was asked for (each take's limit), and how many it marked delivered.
type Asked = Arc<std::sync::Mutex<Vec<u32>>>;
type Marked = Arc<std::sync::Mutex<Vec<usize>>>;

/// A store holding `backlog` due events (seqs 1..=backlog), handed out in order as asked, and
/// counting what was marked delivered.
fn backlog_store(backlog: i64) -> (MockOutboxStore, Asked, Marked) {
    use std::sync::Mutex;
    let next = Arc::new(Mutex::new(1_i64));
    let asked = Arc::new(Mutex::new(Vec::new()));
    let marked = Arc::new(Mutex::new(Vec::new()));
    let mut store = MockOutboxStore::new();
    let asked_for = asked.clone();
    store
        .expect_take_due_events()
        .returning(move |_, limit, _| {
            asked_for.lock().unwrap().push(limit);
            Ok(hand_out(&next, backlog, limit))
        });
    let marks = marked.clone();
    store.expect_mark_delivered().returning(move |seqs, _| {
        marks.lock().unwrap().push(seqs.len());
        Ok(())
    });
    (store, asked, marked)
}

#[tokio::test]
async fn draining_delivers_a_whole_backlog_in_growing_rounds_and_stops_once_it_is_empty() {
    let (store, asked, marked) = backlog_store(1_000);
    let config = OutboxConfig {
        batch: 10,
        lanes: 1,
        max_round: 40,
        ..OutboxConfig::default()
    };
    let worker = OutboxWorker::new(
        Arc::new(store),
        Arc::new(CountingReceiver::default()),
        Arc::new(ManualClock::new(now())),
        config,
    );
    let report = worker.drain(&crate::Shutdown::never()).await;

    assert_eq!(report.delivered, 1_000);
    assert_eq!(marked.lock().unwrap().iter().sum::<usize>(), 1_000);
    let asked = asked.lock().unwrap().clone();
    assert_eq!(&asked[..4], &[10, 20, 40, 40]);
    // It stops at the first round that finds nothing: one empty take after the backlog.
    let rounds = 3 + (1_000 - 70_usize).div_ceil(40) + 1;
    assert_eq!(asked.len(), rounds, "{asked:?}");
}

#[tokio::test]
async fn draining_stops_at_the_first_failed_delivery_and_leaves_the_rest() {
    let (mut store, asked, marked) = backlog_store(1_000);
    store.expect_mark_failed().returning(|_, _, _| Ok(()));
    let mut down = MockFailureNotifier::new();
    down.expect_notify()
        .returning(|_| Err(NotifyError::Unavailable("receiver down".into())));
    let worker = OutboxWorker::new(
        Arc::new(store),
        Arc::new(down),
        Arc::new(ManualClock::new(now())),
        OutboxConfig {
            batch: 10,
            lanes: 1,
            ..OutboxConfig::default()
        },
    );
    let report = worker.drain(&crate::Shutdown::never()).await;

    assert_eq!(report.delivered, 0);
    assert_eq!(report.failed, 10);
    assert!(marked.lock().unwrap().is_empty());
    assert_eq!(asked.lock().unwrap().as_slice(), &[10]);
}

#[tokio::test]
async fn lanes_share_one_limit_of_deliveries_in_flight_and_deliver_a_backlog_once() {
    let (store, asked, marked) = backlog_store(1_000);
    let receiver = Arc::new(CountingReceiver::default());
    let worker = OutboxWorker::new(
        Arc::new(store),
        receiver.clone(),
        Arc::new(ManualClock::new(now())),
        OutboxConfig {
            batch: 10,
            lanes: 4,
            max_round: 40,
            ..OutboxConfig::default()
        },
    );
    let report = worker.drain(&crate::Shutdown::never()).await;

    assert_eq!(report.delivered, 1_000);
    assert_eq!(marked.lock().unwrap().iter().sum::<usize>(), 1_000);
    // Four lanes took rounds, yet never more than one batch was in flight at once.
    assert!(asked.lock().unwrap().len() >= 4);
    let most = receiver.most.load(std::sync::atomic::Ordering::SeqCst);
    assert!((2..=10).contains(&most), "{most} deliveries at once");
}

/// A store of `backlog` due events whose takes and writes each take a while, noting how many
/// deliveries happened while one of them was under way.
struct SlowStore {
    backlog: i64,
    next: std::sync::Mutex<i64>,
    busy: std::sync::atomic::AtomicUsize,
}

impl SlowStore {
    const WAIT: std::time::Duration = std::time::Duration::from_millis(5);

    async fn busy<T>(&self, answer: T) -> Result<T, StoreError> {
        use std::sync::atomic::Ordering::SeqCst;
        self.busy.fetch_add(1, SeqCst);
        tokio::time::sleep(Self::WAIT).await;
        self.busy.fetch_sub(1, SeqCst);
        Ok(answer)
    }
}

#[async_trait::async_trait]
impl OutboxStore for SlowStore {
    async fn take_due_events(
        &self,
        _: chrono::DateTime<chrono::Utc>,
        limit: u32,
        _: TimeDelta,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let taken = hand_out(&self.next, self.backlog, limit);
        self.busy(taken).await
    }
    async fn mark_delivered(
        &self,
        _: &[i64],
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        self.busy(()).await
    }
    async fn mark_failed(
        &self,
        _: i64,
        _: &str,
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        unreachable!("every delivery succeeds")
    }
    async fn mark_dead(
        &self,
        _: i64,
        _: &str,
        _: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), StoreError> {
        unreachable!("every delivery succeeds")
    }
    async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        unreachable!()
    }
    async fn dead_events(&self) -> Result<u64, StoreError> {
        unreachable!()
    }
}

/// A receiver that notes each delivery made while the store was busy.
struct Overlaps {
    store: Arc<SlowStore>,
    during_store_work: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl FailureNotifier for Overlaps {
    async fn notify(&self, _: &Notification) -> Result<(), crate::notify::NotifyError> {
        use std::sync::atomic::Ordering::SeqCst;
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        if self.store.busy.load(SeqCst) > 0 {
            self.during_store_work.fetch_add(1, SeqCst);
        }
        Ok(())
    }
}

/// How many of a 400-event backlog's deliveries overlapped the store's work, with `lanes`.
async fn deliveries_during_store_work(lanes: u32) -> usize {
    let store = Arc::new(SlowStore {
        backlog: 400,
        next: std::sync::Mutex::new(1),
        busy: std::sync::atomic::AtomicUsize::new(0),
    });
    let receiver = Arc::new(Overlaps {
        store: store.clone(),
        during_store_work: std::sync::atomic::AtomicUsize::new(0),
    });
    let worker = OutboxWorker::new(
        store,
        receiver.clone(),
        Arc::new(ManualClock::new(now())),
        OutboxConfig {
            batch: 10,
            lanes,
            max_round: 40,
            ..OutboxConfig::default()
        },
    );
    let report = worker.drain(&crate::Shutdown::never()).await;
    assert_eq!(report.delivered, 400);
    receiver
        .during_store_work
        .load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test]
async fn while_one_lane_waits_on_the_store_another_delivers() {
    // One lane: the receiver waits while its round is taken and recorded.
    assert_eq!(deliveries_during_store_work(1).await, 0);
    // Several: deliveries go on while a take or a record is under way.
    let overlapped = deliveries_during_store_work(4).await;
    assert!(
        overlapped > 40,
        "{overlapped} of 400 deliveries overlapped the store's work"
    );
}

/// A receiver whose every delivery takes `each` of `clock`'s time.
struct SlowReceiver {
    clock: Arc<ManualClock>,
    each: TimeDelta,
}

#[async_trait::async_trait]
impl FailureNotifier for SlowReceiver {
    async fn notify(&self, _: &Notification) -> Result<(), crate::notify::NotifyError> {
        self.clock.advance(self.each);
        Ok(())
    }
}

#[tokio::test]
async fn a_round_starts_no_delivery_once_half_its_lease_is_gone_and_leaves_the_rest_leased() {
    let mut store = taking((1..=10).map(|seq| event(seq, 0)).collect());
    // Deliveries start at 0, 10 and 20 s of a 60 s lease; the fourth would start at 30 s.
    expect_delivered(&mut store, vec![1, 2, 3]);
    // The other seven are neither failed nor dead: they wait for their lease to end.
    let clock = Arc::new(ManualClock::new(now()));
    let worker = OutboxWorker::new(
        Arc::new(store),
        Arc::new(SlowReceiver {
            clock: clock.clone(),
            each: TimeDelta::seconds(10),
        }),
        clock,
        OutboxConfig {
            batch: 1,
            lease: std::time::Duration::from_secs(60),
            ..OutboxConfig::default()
        },
    );
    let report = worker.try_deliver().await.unwrap();
    assert_eq!(
        report,
        DeliveryReport {
            delivered: 3,
            failed: 0,
            dead: 0
        }
    );
}
