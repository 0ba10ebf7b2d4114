//! The outbox on SQLite and PostgreSQL, driven by the real outbox worker: events are settled one
//! by one, so one that cannot be read or delivered never holds back the others.

mod common;

use std::sync::{Arc, Mutex};

use antaeus_core::ManualClock;
use antaeus_core::notify::{FailureNotifier, NotifyError, OutboxConfig, OutboxWorker};
use antaeus_core::store::{EventStore, OutboxEvent, OutboxStore};
use antaeus_data::testing::TestDatabase;
use antaeus_models::{
    EventData, EventFilter, EventId, EventKind, EventRecord, EventSeq, EventStatus, Notification,
    PageLimit, PageRequest,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

on_every_backend!(
    one_bad_event_never_blocks_the_outbox,
    events_are_listed_by_status_in_pages,
    redelivery_requeues_dead_and_delivered_events_as_new,
    a_delivery_that_lands_after_the_event_died_counts,
    lanes_taking_at_once_deliver_every_event_exactly_once,
    an_event_stamped_behind_the_last_take_waits_at_most_a_minute,
    a_lease_is_shown_as_the_next_attempt_and_on_postgres_writes_no_index,
    an_event_whose_lease_ran_out_is_taken_again_within_a_minute,
);

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

/// A receiver that takes every event and remembers their ids.
#[derive(Default)]
struct Receiver(Mutex<Vec<String>>);

impl Receiver {
    fn received(&self) -> Vec<String> {
        let mut ids = self.0.lock().unwrap().clone();
        ids.sort();
        ids
    }
}

#[async_trait]
impl FailureNotifier for Receiver {
    async fn notify(&self, event: &Notification) -> Result<(), NotifyError> {
        self.0.lock().unwrap().push(event.id.clone());
        Ok(())
    }
}

/// A readable `run.completed` event's stored payload.
fn payload(id: &str) -> String {
    serde_json::to_string(&Notification {
        id: id.to_owned(),
        kind: EventKind::RunCompleted,
        created_at: t0(),
        data: EventData {
            invoice: None,
            run: None,
        },
    })
    .unwrap()
}

/// Puts a row in the outbox, due at t0, with `payload` as its stored text.
async fn put_event(db: &TestDatabase, id: &str, payload: &str) {
    put_event_due(db, id, payload, t0()).await;
}

/// Puts a row in the outbox, stamped and due at `at`, with `payload` as its stored text.
async fn put_event_due(db: &TestDatabase, id: &str, payload: &str, at: DateTime<Utc>) {
    let at = at.format("%Y-%m-%d %H:%M:%S");
    db.execute(&format!(
        "INSERT INTO outbox (event_id, event_type, payload, created_at, available_at) \
         VALUES ('{id}', 'run.completed', '{}', '{at}', '{at}')",
        payload.replace('\'', "''")
    ))
    .await
    .unwrap();
}

/// Puts readable events with these ids in the outbox and takes them all for delivery at t0.
async fn put_and_take(db: &TestDatabase, ids: &[&str]) -> Vec<OutboxEvent> {
    for id in ids {
        put_event(db, id, &payload(id)).await;
    }
    db.db
        .take_due_events(t0(), 10, TimeDelta::minutes(1))
        .await
        .unwrap()
}

/// Every event with `status` (all of them for `None`), in one page.
async fn listed(db: &TestDatabase, status: Option<EventStatus>) -> Vec<EventRecord> {
    db.db
        .list_events(
            EventFilter {
                status,
                ..EventFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap()
}

fn ids(events: &[EventRecord]) -> Vec<&str> {
    events.iter().map(|e| e.id.as_str()).collect()
}

async fn one_bad_event_never_blocks_the_outbox(db: TestDatabase) {
    // The oldest row cannot be read (say, an event type only a newer version knows)...
    put_event(
        &db,
        "evt_unreadable",
        r#"{"id":"evt_unreadable","type":"invoice.teleported"}"#,
    )
    .await;
    // ...and the events taken in the same round behind it are fine.
    let good = ["evt_good_1", "evt_good_2", "evt_good_3"];
    for id in good {
        put_event(&db, id, &payload(id)).await;
    }
    let receiver = Arc::new(Receiver::default());
    let clock = Arc::new(ManualClock::new(t0()));
    let worker = OutboxWorker::new(
        Arc::new(db.db.clone()),
        receiver.clone(),
        clock.clone(),
        OutboxConfig {
            max_failures: 3,
            ..OutboxConfig::default()
        },
    );

    let report = worker
        .try_deliver()
        .await
        .expect("one unreadable event must not fail the round of the others");
    assert_eq!((report.delivered, report.failed, report.dead), (3, 1, 0));
    assert_eq!(receiver.received(), good);
    // The unreadable one failed on its own, with the reason, and is retried with backoff.
    let waiting = listed(&db, Some(EventStatus::Pending)).await;
    assert_eq!(ids(&waiting), ["evt_unreadable"]);
    assert_eq!(waiting[0].failures, 1);
    let reason = waiting[0].last_error.as_deref().unwrap();
    assert!(reason.contains("invoice.teleported"), "{reason}");
    assert_eq!(
        waiting[0].next_attempt_at,
        Some(t0() + TimeDelta::seconds(5))
    );
    assert_eq!(db.db.outbox_backlog().await.unwrap(), 1);

    // Its second failure (5 s later) and its third (10 s after that): then it is dead.
    clock.set(t0() + TimeDelta::seconds(5));
    assert_eq!(worker.try_deliver().await.unwrap().failed, 1);
    clock.set(t0() + TimeDelta::seconds(15));
    assert_eq!(worker.try_deliver().await.unwrap().dead, 1);
    let dead = listed(&db, Some(EventStatus::Dead)).await;
    assert_eq!(ids(&dead), ["evt_unreadable"]);
    assert_eq!(dead[0].failures, 3);
    assert_eq!(dead[0].dead_at, Some(t0() + TimeDelta::seconds(15)));
    assert_eq!(dead[0].next_attempt_at, None);
    assert_eq!(db.db.dead_events().await.unwrap(), 1);
    assert_eq!(
        db.db.outbox_backlog().await.unwrap(),
        0,
        "dead is not backlog"
    );
    // Never taken again, and the good events were delivered exactly once.
    clock.set(t0() + TimeDelta::days(30));
    assert_eq!(
        worker.try_deliver().await.unwrap(),
        Default::default(),
        "nothing left to do"
    );
    assert_eq!(receiver.received(), good);
}

async fn events_are_listed_by_status_in_pages(db: TestDatabase) {
    let taken = put_and_take(&db, &["evt_1", "evt_2", "evt_3", "evt_4"]).await;
    let seq = |id: &str| taken.iter().find(|e| e.id == id).unwrap().seq;
    db.db.mark_delivered(&[seq("evt_1")], t0()).await.unwrap();
    db.db
        .mark_dead(seq("evt_2"), "410 Gone", t0())
        .await
        .unwrap();
    db.db
        .mark_dead(seq("evt_4"), "410 Gone", t0())
        .await
        .unwrap();
    db.db
        .mark_failed(seq("evt_3"), "503", t0() + TimeDelta::seconds(5))
        .await
        .unwrap();

    let all = listed(&db, None).await;
    assert_eq!(
        ids(&all),
        ["evt_1", "evt_2", "evt_3", "evt_4"],
        "oldest first"
    );
    let statuses: Vec<EventStatus> = all.iter().map(|e| e.status).collect();
    use EventStatus::{Dead, Delivered, Pending};
    assert_eq!(statuses, [Delivered, Dead, Pending, Dead]);
    assert_eq!(all[0].delivered_at, Some(t0()));
    assert_eq!(all[0].kind, "run.completed");
    assert_eq!(all[0].payload, payload("evt_1"));
    assert_eq!(ids(&listed(&db, Some(Delivered)).await), ["evt_1"]);
    assert_eq!(ids(&listed(&db, Some(Pending)).await), ["evt_3"]);

    // Pages of one dead event each, walked by the last one's seq.
    let page = |after: Option<EventSeq>| PageRequest {
        after,
        limit: PageLimit::new(1).unwrap(),
    };
    let dead = EventFilter {
        status: Some(Dead),
        ..EventFilter::default()
    };
    let first = db.db.list_events(dead, page(None)).await.unwrap();
    assert_eq!(ids(&first), ["evt_2"]);
    let second = db
        .db
        .list_events(dead, page(Some(first[0].seq)))
        .await
        .unwrap();
    assert_eq!(ids(&second), ["evt_4"]);
    let past_the_end = db
        .db
        .list_events(dead, page(Some(second[0].seq)))
        .await
        .unwrap();
    assert!(past_the_end.is_empty());

    // A window: only the events up to a given one.
    let up_to_the_third = EventFilter {
        up_to: Some(all[2].seq),
        ..EventFilter::default()
    };
    let windowed = db
        .db
        .list_events(up_to_the_third, PageRequest::default())
        .await
        .unwrap();
    assert_eq!(ids(&windowed), ["evt_1", "evt_2", "evt_3"]);
}

async fn redelivery_requeues_dead_and_delivered_events_as_new(db: TestDatabase) {
    let taken = put_and_take(&db, &["evt_dead", "evt_delivered"]).await;
    db.db
        .mark_dead(taken[0].seq, "receiver gone", t0())
        .await
        .unwrap();
    db.db.mark_delivered(&[taken[1].seq], t0()).await.unwrap();
    let later = t0() + TimeDelta::hours(2);

    for (id, was) in [
        ("evt_dead", EventStatus::Dead),
        ("evt_delivered", EventStatus::Delivered),
    ] {
        let again = db
            .db
            .redeliver_event(&EventId::parse(id).unwrap(), later)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.was, was);
        let event = again.event;
        assert_eq!(event.id, id);
        assert_eq!(
            (event.status, event.failures, event.last_error.as_deref()),
            (EventStatus::Pending, 0, None)
        );
        assert_eq!(event.next_attempt_at, Some(later));
        assert_eq!((event.delivered_at, event.dead_at), (None, None));
    }
    assert_eq!(db.db.dead_events().await.unwrap(), 0);
    assert_eq!(db.db.outbox_backlog().await.unwrap(), 2);
    // Both are due at once, with their full number of tries.
    let due = db
        .db
        .take_due_events(later, 10, TimeDelta::minutes(1))
        .await
        .unwrap();
    assert_eq!(due.len(), 2);
    assert!(
        due.iter()
            .all(|e| e.failures == 0 && e.notification.is_ok())
    );
    // An id no event has.
    let unknown = db
        .db
        .redeliver_event(&EventId::parse("evt_nope").unwrap(), later)
        .await
        .unwrap();
    assert!(unknown.is_none());
}

async fn a_delivery_that_lands_after_the_event_died_counts(db: TestDatabase) {
    let lease = TimeDelta::minutes(1);
    let slow = put_and_take(&db, &["evt_1"]).await;
    // The slow worker's lease runs out; another takes the event and gives it up...
    let other = db
        .db
        .take_due_events(t0() + lease, 10, lease)
        .await
        .unwrap();
    db.db
        .mark_dead(other[0].seq, "timeout", t0() + lease)
        .await
        .unwrap();
    // ...and then the slow worker's delivery succeeds after all.
    db.db
        .mark_delivered(&[slow[0].seq], t0() + lease + TimeDelta::seconds(1))
        .await
        .unwrap();
    let event = &listed(&db, None).await[0];
    assert_eq!(
        (event.status, event.dead_at),
        (EventStatus::Delivered, None)
    );
    assert_eq!(db.db.dead_events().await.unwrap(), 0);
}

async fn lanes_taking_at_once_deliver_every_event_exactly_once(db: TestDatabase) {
    let all: Vec<String> = (1..=400).map(|n| format!("evt_{n:03}")).collect();
    let rows: Vec<String> = all
        .iter()
        .map(|id| {
            format!(
                "('{id}', 'run.completed', '{}', '2026-12-01 00:00:00', '2026-12-01 00:00:00')",
                payload(id).replace('\'', "''")
            )
        })
        .collect();
    db.execute(&format!(
        "INSERT INTO outbox (event_id, event_type, payload, created_at, available_at) VALUES {}",
        rows.join(", ")
    ))
    .await
    .unwrap();
    let receiver = Arc::new(Receiver::default());
    let worker = OutboxWorker::new(
        Arc::new(db.db.clone()),
        receiver.clone(),
        Arc::new(ManualClock::new(t0())),
        OutboxConfig {
            batch: 10,
            lanes: 4,
            max_round: 40,
            ..OutboxConfig::default()
        },
    );

    let report = worker.drain(&antaeus_core::Shutdown::never()).await;

    // Four lanes took rounds side by side; the lease gave each event to one of them.
    assert_eq!(report.delivered, 400);
    assert_eq!(receiver.received(), all);
    assert_eq!(db.db.outbox_backlog().await.unwrap(), 0);
    assert_eq!(listed(&db, Some(EventStatus::Delivered)).await.len(), 400);
}

/// A take starts its walk of the due events a little before the oldest the last take found,
/// so that it does not read past every event delivered since the last vacuum. An event whose
/// transaction committed long after it was stamped lies below that floor: it is found by the
/// next take that walks everything, a minute after the last.
async fn an_event_stamped_behind_the_last_take_waits_at_most_a_minute(db: TestDatabase) {
    let lease = TimeDelta::minutes(1);
    let take = |now: DateTime<Utc>| {
        let db = db.db.clone();
        async move {
            let taken = db.take_due_events(now, 10, lease).await.unwrap();
            let seqs: Vec<i64> = taken.iter().map(|e| e.seq).collect();
            db.mark_delivered(&seqs, now).await.unwrap();
            let mut ids: Vec<String> = taken.into_iter().map(|e| e.id).collect();
            ids.sort();
            ids
        }
    };
    let id = |s: &str| s.to_owned();
    put_event(&db, "evt_first", &payload("evt_first")).await;
    assert_eq!(take(t0()).await, [id("evt_first")]);

    // Stamped a minute before the event the last take found, committed only now...
    let late = t0() - TimeDelta::minutes(1);
    put_event_due(&db, "evt_late", &payload("evt_late"), late).await;
    // ...beside one stamped now.
    let now = t0() + TimeDelta::seconds(5);
    put_event_due(&db, "evt_now", &payload("evt_now"), now).await;
    assert_eq!(take(now).await, [id("evt_now")]);
    assert_eq!(
        take(t0() + TimeDelta::seconds(59)).await,
        Vec::<String>::new()
    );
    assert_eq!(
        db.db.outbox_backlog().await.unwrap(),
        1,
        "the late event waits"
    );

    // A minute after the first take, a take walks every due event again.
    assert_eq!(take(t0() + TimeDelta::minutes(1)).await, [id("evt_late")]);
    assert_eq!(db.db.outbox_backlog().await.unwrap(), 0);
}

#[derive(QueryableByName)]
struct LeaseColumns {
    #[diesel(sql_type = Timestamp)]
    available_at: NaiveDateTime,
    #[diesel(sql_type = Nullable<Timestamp>)]
    leased_until: Option<NaiveDateTime>,
}

#[derive(QueryableByName)]
struct UpdateCounts {
    #[diesel(sql_type = BigInt)]
    updates: i64,
    #[diesel(sql_type = BigInt)]
    heap_only: i64,
    #[diesel(sql_type = Text)]
    options: String,
}

/// On PostgreSQL, each outbox row's `available_at` and `leased_until`, in `seq` order, and the
/// server's count of updates of the outbox and of those that were heap-only (HOT), once the
/// count shows `updates` of them (the server publishes it within seconds), with the table's
/// storage options.
async fn postgres_leases(db: &TestDatabase, updates: i64) -> (Vec<LeaseColumns>, UpdateCounts) {
    let url = db.url_string();
    tokio::task::spawn_blocking(move || {
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        let rows = diesel::sql_query("SELECT available_at, leased_until FROM outbox ORDER BY seq")
            .load::<LeaseColumns>(&mut conn)
            .unwrap();
        // An idle backend publishes its counts within 10 s, and within 60 s whatever it does.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(70);
        loop {
            diesel::sql_query("SELECT pg_stat_clear_snapshot()")
                .execute(&mut conn)
                .unwrap();
            let counts = diesel::sql_query(
                "SELECT n_tup_upd AS updates, n_tup_hot_upd AS heap_only, \
                 coalesce(array_to_string(c.reloptions, ','), '') AS options \
                 FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid \
                 WHERE s.relname = 'outbox'",
            )
            .get_result::<UpdateCounts>(&mut conn)
            .unwrap();
            if counts.updates >= updates || std::time::Instant::now() > deadline {
                return (rows, counts);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    })
    .await
    .unwrap()
}

async fn a_lease_is_shown_as_the_next_attempt_and_on_postgres_writes_no_index(db: TestDatabase) {
    let taken = put_and_take(&db, &["evt_1", "evt_2"]).await;
    assert_eq!(taken.len(), 2);
    let lease_end = t0() + TimeDelta::minutes(1);
    let pending = listed(&db, Some(EventStatus::Pending)).await;
    assert_eq!(ids(&pending), ["evt_1", "evt_2"]);
    for event in &pending {
        assert_eq!(event.next_attempt_at, Some(lease_end), "{}", event.id);
    }
    if db.db.backend() == antaeus_data::Backend::Postgres {
        // PostgreSQL keeps the lease apart from `available_at`, which `outbox_due` holds, so
        // that the take's update adds no index entry: heap-only, in the room the table leaves
        // on each page (`fillfactor = 50`).
        let (rows, counts) = postgres_leases(&db, 2).await;
        for row in &rows {
            assert_eq!(row.available_at, t0().naive_utc());
            assert_eq!(row.leased_until, Some(lease_end.naive_utc()));
        }
        assert_eq!((counts.updates, counts.heap_only), (2, 2));
        // Each page keeps room for the leases of the rows it holds.
        assert_eq!(counts.options, "fillfactor=50");
    }

    // A failed delivery ends the lease: due again at its retry, not at the lease's end.
    let retry = t0() + TimeDelta::seconds(5);
    db.db
        .mark_failed(taken[0].seq, "receiver down", retry)
        .await
        .unwrap();
    let pending = listed(&db, Some(EventStatus::Pending)).await;
    assert_eq!(pending[0].next_attempt_at, Some(retry));
    let again = db
        .db
        .take_due_events(retry, 10, TimeDelta::minutes(1))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, "evt_1");
}

/// A worker took an event and died; takes by others go on finding newer events. The event is
/// taken again once its lease has ended (90 s, between two walks of the whole index): on
/// SQLite as it ends; on PostgreSQL, where a lease leaves `available_at` below the floor the
/// takes keep, by the next walk of the whole index, a minute after the last at most (see
/// `take_floor.rs`).
async fn an_event_whose_lease_ran_out_is_taken_again_within_a_minute(db: TestDatabase) {
    let lease = TimeDelta::seconds(90);
    put_event(&db, "evt_orphan", &payload("evt_orphan")).await;
    let orphaned = db.db.take_due_events(t0(), 10, lease).await.unwrap();
    assert_eq!(orphaned.len(), 1);

    let mut taken_again = None;
    for step in 5..=15 {
        let now = t0() + TimeDelta::seconds(10 * step);
        let id = format!("evt_{step}");
        put_event_due(&db, &id, &payload(&id), now).await;
        let taken = db.db.take_due_events(now, 10, lease).await.unwrap();
        let seqs: Vec<i64> = taken.iter().map(|e| e.seq).collect();
        db.db.mark_delivered(&seqs, now).await.unwrap();
        let ids: Vec<&str> = taken.iter().map(|e| e.id.as_str()).collect();
        assert!(ids.contains(&id.as_str()), "{ids:?} at step {step}");
        if ids.contains(&"evt_orphan") {
            taken_again = Some(now);
            break;
        }
    }
    let at = taken_again.expect("the orphaned event is taken again");
    if db.db.backend() == antaeus_data::Backend::Sqlite {
        assert_eq!(at, t0() + lease);
    } else {
        assert_eq!(at, t0() + TimeDelta::minutes(2), "the second full walk");
    }
    assert_eq!(db.db.outbox_backlog().await.unwrap(), 0);
}
