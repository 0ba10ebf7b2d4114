//! [`ConsoleStore`]: a run's problem calls and an invoice's events, each one bounded index
//! range (`charge_attempts (run_id, id)`, `outbox (invoice_id, seq)`).

use antaeus_core::store::{ConsoleStore, ProblemCall, StoreError};
use antaeus_models::{AttemptOutcome, ChargeAttempt, EventRecord, InvoiceId, RunId};
use async_trait::async_trait;
use diesel::prelude::*;

use crate::Database;
use crate::billing::{AttemptRow, EventRow};
use crate::error::store_error;
use crate::schema::{charge_attempts, outbox};

/// The outcomes a run's page lists as problems: every finished call that did not charge.
const PROBLEMS: [AttemptOutcome; 6] = [
    AttemptOutcome::Declined,
    AttemptOutcome::CustomerNotFound,
    AttemptOutcome::CurrencyMismatch,
    AttemptOutcome::NetworkError,
    AttemptOutcome::Timeout,
    AttemptOutcome::ProtocolError,
];

#[async_trait]
impl ConsoleStore for Database {
    async fn run_problems(
        &self,
        run: RunId,
        after: Option<i64>,
        limit: u16,
    ) -> Result<Vec<ProblemCall>, StoreError> {
        let after = after.unwrap_or(0);
        let outcomes: Vec<&'static str> = PROBLEMS.iter().map(|o| o.as_str()).collect();
        let rows: Vec<AttemptRow> = self
            .run(move |pools| {
                with_conn!(pools, |c| charge_attempts::table
                    .filter(charge_attempts::run_id.eq(run.get()))
                    .filter(charge_attempts::id.gt(after))
                    .filter(charge_attempts::outcome.eq_any(&outcomes))
                    .order(charge_attempts::id.asc())
                    .limit(i64::from(limit))
                    .select(AttemptRow::as_select())
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        rows.into_iter()
            .map(|row| {
                let cursor = row.id;
                Ok(ProblemCall {
                    cursor,
                    attempt: ChargeAttempt::try_from(row)?,
                })
            })
            .collect()
    }

    async fn invoice_events(
        &self,
        invoice: InvoiceId,
        limit: u16,
    ) -> Result<Vec<EventRecord>, StoreError> {
        let mut rows: Vec<EventRow> = self
            .run(move |pools| {
                with_conn!(pools, |c| outbox::table
                    .filter(outbox::invoice_id.eq(invoice.get()))
                    .order(outbox::seq.desc())
                    .limit(i64::from(limit))
                    .select(EventRow::as_select())
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        rows.reverse();
        rows.into_iter().map(EventRecord::try_from).collect()
    }
}
