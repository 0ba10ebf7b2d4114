//! [`OutboxStore`]: events waiting for delivery.

use antaeus_core::store::{OutboxEvent, OutboxStore, StoreError};
use antaeus_models::Notification;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::error::{pool_unavailable, store_error};
use crate::pool::Pools;
use crate::rows::{count, stored};
use crate::schema::outbox;
use crate::time::to_db;

/// Appends `FOR UPDATE SKIP LOCKED` on PostgreSQL.
macro_rules! locked {
    (pg, $query:expr) => {
        $query.for_update().skip_locked()
    };
    (sqlite, $query:expr) => {
        $query
    };
}

/// Leaves out, on PostgreSQL, the events whose lease has not ended (see [`lease!`]).
macro_rules! unleased {
    (pg, $query:expr, $now:expr) => {
        $query.filter(
            outbox::leased_until
                .is_null()
                .or(outbox::leased_until.le($now)),
        )
    };
    (sqlite, $query:expr, $now:expr) => {
        $query
    };
}

/// What a take writes to lease an event until `$until`.
///
/// On PostgreSQL, `leased_until`: a column no index holds, so that the update can be
/// heap-only (HOT): the new row version goes beside the old one on its page (the table is
/// filled only half full for that, `fillfactor = 50`) and no index gets an entry for it. Moving
/// `available_at`, which `outbox_due` holds, wrote a full new row version and an entry in each
/// index that holds a waiting event (four of the table's five) for every event taken, about a
/// third of the outbox's cost to the server. A take then walks past the events in flight, and
/// the floor (`take_floor.rs`) may pass them: one whose lease runs out unsettled (its worker
/// gone, a round's leftovers) is taken again by the next walk of the whole index, up to a
/// minute after its lease ends. SQLite keeps leasing by `available_at`, and `leased_until`
/// stays NULL there: it has no row versions (the update rewrites the row and moves the one
/// index entry that changes), and a lease kept apart would leave each take walking past the
/// events in flight, still in `outbox_due`.
macro_rules! lease {
    (pg, $until:expr) => {
        outbox::leased_until.eq($until)
    };
    (sqlite, $until:expr) => {
        outbox::available_at.eq($until)
    };
}

/// The rows still waiting for delivery: neither delivered nor dead (the `outbox_due` index).
#[diesel::dsl::auto_type]
pub(super) fn pending() -> _ {
    outbox::delivered_at
        .is_null()
        .and(outbox::dead_at.is_null())
}

/// A taken row: seq, event id, payload, failures, when it became due.
type TakenRow = (i64, String, String, i32, NaiveDateTime);

/// Takes due events from `$floor` on and leases them until `$until` ([`lease!`]), in one
/// transaction.
macro_rules! take_due {
    ($c:ident, $backend:ident, $now:expr, $limit:expr, $until:expr, $floor:expr) => {{
        let rows: Vec<TakenRow> = locked!(
            $backend,
            unleased!(
                $backend,
                outbox::table
                    .filter(pending())
                    .filter(outbox::available_at.le($now))
                    .filter(outbox::available_at.ge($floor)),
                $now
            )
            .order((outbox::available_at.asc(), outbox::seq.asc()))
            .select((
                outbox::seq,
                outbox::event_id,
                outbox::payload,
                outbox::failures,
                outbox::available_at,
            ))
            .limit($limit)
        )
        .load($c)?;
        let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
        if !seqs.is_empty() {
            diesel::update(outbox::table.filter(outbox::seq.eq_any(&seqs)))
                .set(lease!($backend, $until))
                .execute($c)?;
        }
        Ok(rows)
    }};
}

#[async_trait]
impl OutboxStore for Database {
    async fn take_due_events(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease: TimeDelta,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let (now_db, until) = (to_db(now), to_db(now + lease));
        let start = self.outbox_floor.start(now_db);
        let limit = i64::from(limit);
        let rows = self
            .run(move |pools| {
                match pools {
                    Pools::Sqlite(pool) => pool.immediate(|c| -> QueryResult<Vec<TakenRow>> {
                        take_due!(c, sqlite, now_db, limit, until, start.at)
                    })?,
                    Pools::Postgres(pool) => {
                        let mut conn = pool.get().map_err(pool_unavailable)?;
                        conn.transaction(|c| -> QueryResult<Vec<TakenRow>> {
                            take_due!(c, pg, now_db, limit, until, start.at)
                        })
                    }
                }
                .map_err(store_error)
            })
            .await
            .inspect_err(|_| self.outbox_floor.forget())?;
        // Rows come in the order they became due: the first is the oldest. (On PostgreSQL,
        // events in flight below it stay leased where they are and fall below the floor: one
        // whose lease runs out unsettled waits for the next walk of the whole index.)
        self.outbox_floor
            .after_take(start, now_db, rows.first().map(|r| r.4));
        // Each row on its own: one that cannot be read is handed over as such, to be settled as
        // a failed delivery, and never fails the take of the others.
        Ok(rows
            .into_iter()
            .map(|(seq, id, payload, failures, _)| OutboxEvent {
                seq,
                id,
                notification: serde_json::from_str::<Notification>(&payload)
                    .map_err(|e| format!("the stored payload cannot be read: {e}")),
                // Counters only grow from zero; an impossible one must not stop delivery.
                failures: count(failures).unwrap_or_default(),
            })
            .collect())
    }

    async fn mark_delivered(&self, seqs: &[i64], now: DateTime<Utc>) -> Result<(), StoreError> {
        let now = to_db(now);
        let seqs = seqs.to_vec();
        self.run(move |pools| {
            // A delivery that lands after another worker gave the event up still counts.
            write_txn!(pools, |c| diesel::update(
                outbox::table.filter(outbox::seq.eq_any(&seqs))
            )
            .set((
                outbox::delivered_at.eq(now),
                outbox::dead_at.eq(None::<NaiveDateTime>),
            ))
            .execute(c)
            .map(|_| ()))
        })
        .await
    }

    async fn mark_failed(
        &self,
        seq: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        settle_failure(self, seq, error, to_db(retry_at), None).await
    }

    async fn mark_dead(&self, seq: i64, error: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        settle_failure(self, seq, error, to_db(now), Some(to_db(now))).await
    }

    async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        count_events(self, false).await
    }

    async fn dead_events(&self) -> Result<u64, StoreError> {
        count_events(self, true).await
    }
}

/// How many events are dead (`dead`), or pending.
///
/// On PostgreSQL the pending ones are counted with a plain scan of the `outbox_due` index, never
/// a bitmap scan. Every delivered event (and every event leased where the lease could not be
/// a heap-only update) leaves an entry in that index until vacuum removes it, and a bitmap
/// scan visits the table for every one of them each time (at a million events, about a second
/// for a count of a few thousand). A plain scan marks the entries of rows
/// gone for good as dead in the index, so that the next count skips them: each count pays only
/// for what changed since the last.
async fn count_events(db: &Database, dead: bool) -> Result<u64, StoreError> {
    macro_rules! count {
        ($c:ident) => {{
            let query = outbox::table.count().into_boxed();
            let query = if dead {
                query.filter(outbox::dead_at.is_not_null())
            } else {
                query.filter(pending())
            };
            query
                .get_result::<i64>($c)
                .map(|n| u64::try_from(n).unwrap_or(0))
        }};
    }
    db.run(move |pools| match pools {
        Pools::Sqlite(_) => with_conn!(pools, |c| count!(c).map_err(store_error)),
        Pools::Postgres(pool) => {
            let mut conn = pool.get().map_err(pool_unavailable)?;
            conn.transaction(|c| {
                diesel::sql_query("SET LOCAL enable_bitmapscan = off").execute(c)?;
                diesel::sql_query("SET LOCAL enable_seqscan = off").execute(c)?;
                count!(c)
            })
            .map_err(store_error)
        }
    })
    .await
}

/// Records a failed delivery of a pending event (its count, its reason) and what follows it:
/// its next try at `available_at`, or its death at `dead_at`.
async fn settle_failure(
    db: &Database,
    seq: i64,
    error: &str,
    available_at: NaiveDateTime,
    dead_at: Option<NaiveDateTime>,
) -> Result<(), StoreError> {
    let error: String = error.chars().take(500).collect();
    db.run(move |pools| {
        write_txn!(pools, |c| diesel::update(
            outbox::table.find(seq).filter(pending())
        )
        .set((
            outbox::failures.eq(outbox::failures + stored(1)),
            outbox::last_error.eq(&error),
            outbox::available_at.eq(available_at),
            outbox::leased_until.eq(None::<NaiveDateTime>),
            outbox::dead_at.eq(dead_at),
        ))
        .execute(c)
        .map(|_| ()))
    })
    .await
}

impl Database {
    /// Makes the next outbox take walk every due event, not only those above the floor the
    /// takes keep (see `take_floor.rs`): before a drain that must leave nothing behind.
    pub fn rewind_outbox(&self) {
        self.outbox_floor.forget();
    }
}
