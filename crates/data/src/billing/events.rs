//! [`EventStore`]: the outbox listed by status, and events re-queued for delivery.

use antaeus_core::store::{EventStore, Redelivered, StoreError};
use antaeus_models::{EventFilter, EventId, EventRecord, EventSeq, EventStatus, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::outbox::pending;
use crate::Database;
use crate::error::store_error;
use crate::rows::{corrupt, count, text};
use crate::schema::outbox;
use crate::time::{from_db, to_db};

/// An `outbox` row, as the listing shows it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = outbox, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct EventRow {
    seq: i64,
    event_id: String,
    event_type: String,
    payload: String,
    created_at: NaiveDateTime,
    available_at: NaiveDateTime,
    failures: i32,
    last_error: Option<String>,
    delivered_at: Option<NaiveDateTime>,
    dead_at: Option<NaiveDateTime>,
    leased_until: Option<NaiveDateTime>,
}

impl EventRow {
    /// When a pending event is next delivered: when it is due, or when the lease of the worker
    /// delivering it ends (PostgreSQL keeps the lease apart, see `outbox.rs`).
    fn next_attempt_at(&self) -> NaiveDateTime {
        self.leased_until
            .map_or(self.available_at, |until| until.max(self.available_at))
    }

    fn status(&self) -> EventStatus {
        match (self.delivered_at, self.dead_at) {
            (Some(_), _) => EventStatus::Delivered,
            (None, Some(_)) => EventStatus::Dead,
            (None, None) => EventStatus::Pending,
        }
    }
}

impl TryFrom<EventRow> for EventRecord {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, Self::Error> {
        let status = row.status();
        let next_attempt_at = row.next_attempt_at();
        let parse = || -> Result<EventRecord, String> {
            Ok(EventRecord {
                seq: EventSeq::new(row.seq).map_err(text)?,
                id: row.event_id,
                kind: row.event_type,
                created_at: from_db(row.created_at),
                status,
                failures: count(row.failures)?,
                last_error: row.last_error,
                next_attempt_at: (status == EventStatus::Pending).then(|| from_db(next_attempt_at)),
                delivered_at: row.delivered_at.map(from_db),
                dead_at: row.dead_at.map(from_db),
                payload: row.payload,
            })
        };
        let seq = row.seq;
        parse().map_err(|e| corrupt("outbox", seq, e))
    }
}

#[async_trait]
impl EventStore for Database {
    async fn list_events(
        &self,
        filter: EventFilter,
        page: PageRequest<EventSeq>,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let after = page.after.map_or(0, EventSeq::get);
        let limit = i64::from(page.limit.get());
        let rows = self
            .run(move |pools| {
                with_conn!(pools, |c| {
                    let mut query = outbox::table
                        .filter(outbox::seq.gt(after))
                        .order(outbox::seq.asc())
                        .limit(limit)
                        .select(EventRow::as_select())
                        .into_boxed();
                    query = match filter.status {
                        None => query,
                        Some(EventStatus::Pending) => query.filter(pending()),
                        Some(EventStatus::Delivered) => {
                            query.filter(outbox::delivered_at.is_not_null())
                        }
                        Some(EventStatus::Dead) => query.filter(outbox::dead_at.is_not_null()),
                    };
                    if let Some(invoice) = filter.invoice_id {
                        query = query.filter(outbox::invoice_id.eq(invoice.get()));
                    }
                    if let Some(kind) = filter.kind {
                        query = query.filter(outbox::event_type.eq(kind.as_str()));
                    }
                    if let Some(up_to) = filter.up_to {
                        query = query.filter(outbox::seq.le(up_to.get()));
                    }
                    query.load(c).map_err(store_error)
                })
            })
            .await?;
        rows.into_iter().map(EventRecord::try_from).collect()
    }

    async fn redeliver_event(
        &self,
        id: &EventId,
        now: DateTime<Utc>,
    ) -> Result<Option<Redelivered>, StoreError> {
        let id = id.as_str().to_owned();
        let now = to_db(now);
        let rows = self
            .run(move |pools| {
                write_txn!(pools, |c| {
                    let Some(before) = outbox::table
                        .filter(outbox::event_id.eq(&id))
                        .select(EventRow::as_select())
                        .first(c)
                        .optional()?
                    else {
                        return Ok(None);
                    };
                    let after = diesel::update(outbox::table.find(before.seq))
                        .set((
                            outbox::delivered_at.eq(None::<NaiveDateTime>),
                            outbox::dead_at.eq(None::<NaiveDateTime>),
                            outbox::failures.eq(0),
                            outbox::last_error.eq(None::<String>),
                            outbox::available_at.eq(now),
                            outbox::leased_until.eq(None::<NaiveDateTime>),
                        ))
                        .returning(EventRow::as_returning())
                        .get_result(c)?;
                    Ok(Some((before.status(), after)))
                })
            })
            .await?;
        rows.map(|(was, row)| {
            Ok(Redelivered {
                event: EventRecord::try_from(row)?,
                was,
            })
        })
        .transpose()
    }
}
