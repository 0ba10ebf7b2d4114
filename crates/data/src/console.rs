//! [`ConsoleStore`]: a run's problem calls and an invoice's events, each one bounded index
//! range (`charge_attempts (run_id, id)`, `outbox (invoice_id, seq)`); the open disputes,
//! counted over the partial index of disputed invoices (`invoices_disputed`); and the invoices
//! charged more than once, counted over theirs (`invoices_double_charged`).

use antaeus_core::store::{ConsoleStore, ProblemCall, StoreError};
use antaeus_models::{AttemptOutcome, ChargeAttempt, DisputeFilter, EventRecord, InvoiceId, RunId};
use async_trait::async_trait;
use diesel::prelude::*;

use crate::Database;
use crate::billing::{AttemptRow, EventRow};
use crate::error::store_error;
use crate::schema::{charge_attempts, invoices, outbox};
use crate::status_filter::{dispute_is, double_charged};

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

    async fn open_disputes(&self) -> Result<u64, StoreError> {
        let count: i64 = self
            .run(move |pools| {
                with_conn!(pools, |c| open_disputes()
                    .get_result(c)
                    .map_err(store_error))
            })
            .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn double_charged(&self) -> Result<u64, StoreError> {
        let count: i64 = self
            .run(move |pools| {
                with_conn!(pools, |c| double_charged_count()
                    .get_result(c)
                    .map_err(store_error))
            })
            .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }
}

/// `SELECT COUNT(*)` of the invoices with an open dispute: the partial index `invoices_disputed`
/// serves its condition, so it reads the disputed invoices alone.
fn open_disputes() -> CountWhere {
    invoices::table
        .filter(dispute_is(DisputeFilter::Open))
        .count()
}

/// `SELECT COUNT(*)` of the invoices charged more than once: its condition is the predicate of
/// the partial index `invoices_double_charged`, so it reads those invoices alone.
fn double_charged_count() -> CountWhere {
    invoices::table.filter(double_charged()).count()
}

/// A count of the invoices meeting a literal condition.
type CountWhere = diesel::dsl::Select<
    diesel::dsl::Filter<invoices::table, diesel::expression::SqlLiteral<diesel::sql_types::Bool>>,
    diesel::dsl::CountStar,
>;

#[cfg(all(test, feature = "test-support"))]
mod tests {
    use diesel::sql_types::Text;

    use super::*;
    use crate::testing::TestDatabase;

    #[derive(QueryableByName)]
    struct PgPlan {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }

    #[derive(QueryableByName)]
    struct SqlitePlan {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    /// The plan of `count` on `db` (PostgreSQL told to avoid scanning the table wherever an
    /// index can serve, as it would at a million invoices).
    async fn plan(db: &TestDatabase, count: fn() -> CountWhere) -> String {
        db.db
            .run(move |pools| match pools {
                crate::pool::Pools::Sqlite(pool) => {
                    let c = &mut *pool.get().map_err(crate::error::pool_unavailable)?;
                    let sql =
                        diesel::debug_query::<diesel::sqlite::Sqlite, _>(&count()).to_string();
                    let rows: Vec<SqlitePlan> =
                        diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
                            .load(c)
                            .map_err(store_error)?;
                    Ok(rows
                        .into_iter()
                        .map(|r| r.detail)
                        .collect::<Vec<_>>()
                        .join("\n"))
                }
                crate::pool::Pools::Postgres(pool) => {
                    let c = &mut *pool.get().map_err(crate::error::pool_unavailable)?;
                    let sql = diesel::debug_query::<diesel::pg::Pg, _>(&count()).to_string();
                    let rows: Vec<PgPlan> = c
                        .transaction(|c| {
                            diesel::sql_query("SET LOCAL enable_seqscan = off").execute(c)?;
                            diesel::sql_query(format!("EXPLAIN {sql}")).load(c)
                        })
                        .map_err(store_error)?;
                    Ok(rows
                        .into_iter()
                        .map(|r| r.line)
                        .collect::<Vec<_>>()
                        .join("\n"))
                }
            })
            .await
            .unwrap()
    }

    async fn reads_only_disputed_invoices(db: TestDatabase) {
        let plan = plan(&db, open_disputes).await;
        assert!(plan.contains("invoices_disputed"), "{plan}");
    }

    async fn reads_only_double_charged_invoices(db: TestDatabase) {
        let plan = plan(&db, double_charged_count).await;
        assert!(plan.contains("invoices_double_charged"), "{plan}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_open_disputes_are_counted_over_the_index_of_disputed_invoices_on_sqlite() {
        reads_only_disputed_invoices(TestDatabase::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_open_disputes_are_counted_over_the_index_of_disputed_invoices_on_postgres() {
        if let Some(db) = TestDatabase::postgres().await {
            reads_only_disputed_invoices(db).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_double_charged_are_counted_over_the_index_of_double_charged_invoices_on_sqlite() {
        reads_only_double_charged_invoices(TestDatabase::sqlite().await).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_double_charged_are_counted_over_the_index_of_double_charged_invoices_on_postgres()
    {
        if let Some(db) = TestDatabase::postgres().await {
            reads_only_double_charged_invoices(db).await;
        }
    }
}
