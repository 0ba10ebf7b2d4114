//! [`RunStore`]: billing runs, created once per idempotency key.

use antaeus_core::store::{NewRun, RunEnd, RunStore, StoreError};
use antaeus_models::{
    BillingRun, EventData, EventKind, IdempotencyKey, InstanceId, Notification, PageRequest,
    RunCounts, RunEvent, RunId, RunStatus,
};
use async_trait::async_trait;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::dsl::exists;
use diesel::prelude::*;

use super::instances::heartbeat;
use super::journal::outbox_row;
use crate::Database;
use crate::error::store_error;
use crate::rows::{corrupt, count, text};
use crate::schema::{billing_runs, instances, outbox};
use crate::store_clock::StoreClock;
use crate::time::{from_db, to_db};

/// A `billing_runs` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = billing_runs, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct RunRow {
    pub id: i64,
    pub idempotency_key: String,
    pub triggered_by: String,
    pub status: String,
    pub instance_id: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub abort_reason: Option<String>,
    pub claimed: i64,
    pub paid: i64,
    pub declined: i64,
    pub failed: i64,
    pub retry_scheduled: i64,
    pub released: i64,
    pub request_fingerprint: Option<String>,
    pub scope: String,
}

impl TryFrom<RunRow> for BillingRun {
    type Error = StoreError;

    fn try_from(row: RunRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let parse = move || -> Result<BillingRun, String> {
            Ok(BillingRun {
                id: RunId::new(row.id).map_err(text)?,
                idempotency_key: IdempotencyKey::parse(row.idempotency_key).map_err(text)?,
                trigger: row.triggered_by.parse().map_err(text)?,
                scope: row.scope.parse().map_err(text)?,
                status: row.status.parse().map_err(text)?,
                instance_id: row.instance_id,
                started_at: from_db(row.started_at),
                finished_at: row.finished_at.map(from_db),
                abort_reason: row.abort_reason,
                counts: RunCounts {
                    claimed: count(row.claimed)?,
                    paid: count(row.paid)?,
                    declined: count(row.declined)?,
                    failed: count(row.failed)?,
                    retry_scheduled: count(row.retry_scheduled)?,
                    released: count(row.released)?,
                },
                request_fingerprint: row.request_fingerprint,
            })
        };
        parse().map_err(|e| corrupt("billing_runs", id, e))
    }
}

#[async_trait]
impl RunStore for Database {
    async fn create_run(&self, run: &NewRun) -> Result<(BillingRun, bool), StoreError> {
        let run = run.clone();
        let (row, created) = self
            .run(move |pools| {
                write_txn!(pools, |c| {
                    let inserted = diesel::insert_into(billing_runs::table)
                        .values((
                            billing_runs::idempotency_key.eq(run.idempotency_key.as_str()),
                            billing_runs::triggered_by.eq(run.trigger.as_str()),
                            billing_runs::status.eq(RunStatus::Running.as_str()),
                            billing_runs::instance_id.eq(run.instance.as_str()),
                            billing_runs::started_at.eq(to_db(run.now)),
                            billing_runs::request_fingerprint.eq(&run.request_fingerprint),
                            billing_runs::scope.eq(run.scope.as_str()),
                        ))
                        .on_conflict(billing_runs::idempotency_key)
                        .do_nothing()
                        .execute(c)?;
                    if inserted == 1 {
                        // Alive from the start: nobody may adopt the run before it heartbeats.
                        heartbeat!(c, run.instance.as_str());
                    }
                    let row = billing_runs::table
                        .filter(billing_runs::idempotency_key.eq(run.idempotency_key.as_str()))
                        .select(RunRow::as_select())
                        .first(c)?;
                    Ok((row, inserted == 1))
                })
            })
            .await?;
        Ok((BillingRun::try_from(row)?, created))
    }

    async fn finish_run(&self, id: RunId, end: &RunEnd) -> Result<BillingRun, StoreError> {
        let end = end.clone();
        let row = self
            .run(move |pools| {
                write_txn!(pools, |c| {
                    let ended = diesel::update(
                        billing_runs::table
                            .find(id.get())
                            .filter(billing_runs::status.eq(RunStatus::Running.as_str())),
                    )
                    .set((
                        billing_runs::status.eq(end.status.as_str()),
                        billing_runs::finished_at.eq(to_db(end.now)),
                        billing_runs::abort_reason.eq(end.abort_reason.as_deref()),
                    ))
                    .execute(c)?
                        == 1;
                    let row: RunRow = billing_runs::table
                        .find(id.get())
                        .select(RunRow::as_select())
                        .first(c)?;
                    if ended {
                        let run = BillingRun::try_from(row.clone()).map_err(|e| {
                            diesel::result::Error::DeserializationError(Box::new(e))
                        })?;
                        let event = Notification {
                            id: format!("evt_run_{}_completed", run.id),
                            kind: EventKind::RunCompleted,
                            created_at: end.now,
                            data: EventData {
                                invoice: None,
                                run: Some(RunEvent::from(&run)),
                            },
                        };
                        diesel::insert_into(outbox::table)
                            .values(outbox_row(&event)?)
                            .on_conflict(outbox::event_id)
                            .do_nothing()
                            .execute(c)?;
                    }
                    Ok(row)
                })
            })
            .await?;
        BillingRun::try_from(row)
    }

    async fn fetch_run(&self, id: RunId) -> Result<Option<BillingRun>, StoreError> {
        let row = self
            .run(move |pools| {
                with_conn!(pools, |c| billing_runs::table
                    .find(id.get())
                    .select(RunRow::as_select())
                    .first(c)
                    .optional()
                    .map_err(store_error))
            })
            .await?;
        row.map(BillingRun::try_from).transpose()
    }

    async fn list_runs(&self, page: PageRequest<RunId>) -> Result<Vec<BillingRun>, StoreError> {
        let before = page.after.map_or(i64::MAX, RunId::get);
        let limit = i64::from(page.limit.get());
        let rows = self
            .run(move |pools| {
                with_conn!(pools, |c| billing_runs::table
                    .filter(billing_runs::id.lt(before))
                    .order(billing_runs::id.desc())
                    .limit(limit)
                    .select(RunRow::as_select())
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        rows.into_iter().map(BillingRun::try_from).collect()
    }

    async fn abandoned_runs(
        &self,
        lease_timeout: TimeDelta,
        limit: u32,
    ) -> Result<Vec<RunId>, StoreError> {
        let ids: Vec<i64> = self
            .run(move |pools| {
                with_conn!(pools, |c| {
                    let cutoff = StoreClock::lease_cutoff(c, lease_timeout).map_err(store_error)?;
                    billing_runs::table
                        .filter(billing_runs::status.eq(RunStatus::Running.as_str()))
                        .filter(diesel::dsl::not(exists(
                            instances::table
                                .filter(instances::id.eq(billing_runs::instance_id))
                                .filter(instances::heartbeat_at.ge(cutoff)),
                        )))
                        .order(billing_runs::id.asc())
                        .limit(i64::from(limit))
                        .select(billing_runs::id)
                        .load(c)
                        .map_err(store_error)
                })
            })
            .await?;
        ids.into_iter()
            .map(|id| RunId::new(id).map_err(|e| corrupt("billing_runs", id, text(e))))
            .collect()
    }

    async fn adopt_run(
        &self,
        id: RunId,
        instance: &InstanceId,
        lease_timeout: TimeDelta,
    ) -> Result<Option<BillingRun>, StoreError> {
        let owner = instance.to_string();
        let row = self
            .run(move |pools| {
                write_txn!(pools, |c| {
                    let cutoff = StoreClock::lease_cutoff(c, lease_timeout)?;
                    // Read the owner, check its heartbeat, then compare-and-set on that owner:
                    // an adopter that lost a race finds the owner changed and updates nothing
                    // (re-checking liveness inside the UPDATE would use a stale snapshot of
                    // `instances` under PostgreSQL's READ COMMITTED).
                    let Some(current) = billing_runs::table
                        .find(id.get())
                        .filter(billing_runs::status.eq(RunStatus::Running.as_str()))
                        .select(billing_runs::instance_id)
                        .first::<String>(c)
                        .optional()?
                    else {
                        return Ok(None);
                    };
                    let alive = diesel::select(exists(
                        instances::table
                            .filter(instances::id.eq(&current))
                            .filter(instances::heartbeat_at.ge(cutoff)),
                    ))
                    .get_result::<bool>(c)?;
                    if alive {
                        return Ok(None);
                    }
                    let adopted = diesel::update(
                        billing_runs::table
                            .find(id.get())
                            .filter(billing_runs::status.eq(RunStatus::Running.as_str()))
                            .filter(billing_runs::instance_id.eq(&current)),
                    )
                    .set(billing_runs::instance_id.eq(&owner))
                    .execute(c)?;
                    if adopted == 0 {
                        return Ok(None);
                    }
                    heartbeat!(c, owner.as_str());
                    billing_runs::table
                        .find(id.get())
                        .select(RunRow::as_select())
                        .first(c)
                        .map(Some)
                })
            })
            .await?;
        row.map(BillingRun::try_from).transpose()
    }
}
