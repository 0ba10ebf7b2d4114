//! [`AttemptStore`]: the charge-attempt log.

use antaeus_core::store::{AttemptStore, StoreError};
use antaeus_models::{AttemptOutcome, CallCounts, ChargeAttempt, IdempotencyKey, InvoiceId, RunId};
use async_trait::async_trait;
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::Database;
use crate::error::store_error;
use crate::rows::{corrupt, count, text};
use crate::schema::charge_attempts;
use crate::time::from_db;

/// A `charge_attempts` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = charge_attempts, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct AttemptRow {
    pub(crate) id: i64,
    invoice_id: i64,
    run_id: Option<i64>,
    attempt_number: i32,
    idempotency_key: String,
    instance_id: String,
    started_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
    outcome: Option<String>,
    message: Option<String>,
    decline_code: Option<String>,
    provider_ref: Option<String>,
}

impl TryFrom<AttemptRow> for ChargeAttempt {
    type Error = StoreError;

    fn try_from(row: AttemptRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let parse = move || -> Result<ChargeAttempt, String> {
            Ok(ChargeAttempt {
                invoice_id: InvoiceId::new(row.invoice_id).map_err(text)?,
                run_id: row.run_id.map(RunId::new).transpose().map_err(text)?,
                attempt_number: count(row.attempt_number)?,
                idempotency_key: IdempotencyKey::parse(row.idempotency_key).map_err(text)?,
                instance_id: row.instance_id,
                started_at: from_db(row.started_at),
                finished_at: row.finished_at.map(from_db),
                outcome: row.outcome.map(|o| o.parse()).transpose().map_err(text)?,
                message: row.message,
                decline_code: row.decline_code,
                provider_ref: row.provider_ref,
            })
        };
        parse().map_err(|e| corrupt("charge_attempts", id, e))
    }
}

#[async_trait]
impl AttemptStore for Database {
    async fn list_attempts(&self, invoice: InvoiceId) -> Result<Vec<ChargeAttempt>, StoreError> {
        let rows = self
            .run(move |pools| {
                with_conn!(pools, |c| charge_attempts::table
                    .filter(charge_attempts::invoice_id.eq(invoice.get()))
                    .order(charge_attempts::attempt_number.asc())
                    .select(AttemptRow::as_select())
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        rows.into_iter().map(ChargeAttempt::try_from).collect()
    }

    async fn run_calls(&self, run: RunId) -> Result<CallCounts, StoreError> {
        let rows: Vec<(Option<String>, i64)> = self
            .run(move |pools| {
                with_conn!(pools, |c| charge_attempts::table
                    .filter(charge_attempts::run_id.eq(run.get()))
                    .group_by(charge_attempts::outcome)
                    .select((charge_attempts::outcome, diesel::dsl::count_star()))
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        let mut counts = CallCounts::default();
        for (outcome, n) in rows {
            let n = u64::try_from(n).unwrap_or(0);
            match outcome {
                None => counts.in_flight += n,
                Some(text) => {
                    let outcome: AttemptOutcome = text
                        .parse()
                        .map_err(|e| corrupt("charge_attempts", run.get(), e))?;
                    counts.by_outcome.push((outcome, n));
                }
            }
        }
        counts.by_outcome.sort();
        Ok(counts)
    }
}
