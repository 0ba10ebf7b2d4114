//! [`OutboxStore`]: events waiting for delivery.

use antaeus_core::store::{OutboxEvent, OutboxStore, StoreError};
use antaeus_models::Notification;
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::error::{pool_unavailable, store_error};
use crate::pool::Pools;
use crate::rows::{corrupt, count, stored, text};
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

/// Takes due events and pushes their availability past the lease, in one transaction.
macro_rules! take_due {
    ($c:ident, $backend:ident, $now:expr, $limit:expr, $until:expr) => {{
        let rows: Vec<(i64, String, i32)> = locked!(
            $backend,
            outbox::table
                .filter(outbox::delivered_at.is_null())
                .filter(outbox::available_at.le($now))
                .order((outbox::available_at.asc(), outbox::seq.asc()))
                .select((outbox::seq, outbox::payload, outbox::failures))
                .limit($limit)
        )
        .load($c)?;
        let seqs: Vec<i64> = rows.iter().map(|r| r.0).collect();
        if !seqs.is_empty() {
            diesel::update(outbox::table.filter(outbox::seq.eq_any(&seqs)))
                .set(outbox::available_at.eq($until))
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
        let limit = i64::from(limit);
        let rows = self
            .run(move |pools| {
                match pools {
                    Pools::Sqlite(pool) => {
                        pool.immediate(|c| -> QueryResult<Vec<(i64, String, i32)>> {
                            take_due!(c, sqlite, now_db, limit, until)
                        })?
                    }
                    Pools::Postgres(pool) => {
                        let mut conn = pool.get().map_err(pool_unavailable)?;
                        conn.transaction(|c| -> QueryResult<Vec<(i64, String, i32)>> {
                            take_due!(c, pg, now_db, limit, until)
                        })
                    }
                }
                .map_err(store_error)
            })
            .await?;
        rows.into_iter()
            .map(|(seq, payload, failures)| {
                let parse = || -> Result<OutboxEvent, String> {
                    Ok(OutboxEvent {
                        seq,
                        notification: serde_json::from_str::<Notification>(&payload)
                            .map_err(text)?,
                        failures: count(failures)?,
                    })
                };
                parse().map_err(|e| corrupt("outbox", seq, e))
            })
            .collect()
    }

    async fn mark_delivered(&self, seq: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let now = to_db(now);
        self.run(move |pools| {
            with_conn!(pools, |c| diesel::update(outbox::table.find(seq))
                .set(outbox::delivered_at.eq(now))
                .execute(c)
                .map(|_| ())
                .map_err(store_error))
        })
        .await
    }

    async fn mark_failed(
        &self,
        seq: i64,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(500).collect();
        let retry_at = to_db(retry_at);
        self.run(move |pools| {
            with_conn!(pools, |c| diesel::update(
                outbox::table
                    .find(seq)
                    .filter(outbox::delivered_at.is_null())
            )
            .set((
                outbox::failures.eq(outbox::failures + stored(1)),
                outbox::last_error.eq(&error),
                outbox::available_at.eq(retry_at),
            ))
            .execute(c)
            .map(|_| ())
            .map_err(store_error))
        })
        .await
    }

    async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        self.run(|pools| {
            with_conn!(pools, |c| outbox::table
                .filter(outbox::delivered_at.is_null())
                .count()
                .get_result::<i64>(c)
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(store_error))
        })
        .await
    }
}
