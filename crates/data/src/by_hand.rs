//! The benchmark's by-hand writes: what billing writes per charged invoice, as plain batched
//! SQL on the real schema from one connection, without the engine's machinery (no fences per
//! row, no resends, no candidate look-ups beyond the fresh invoices, no pipeline). It measures
//! what the schema itself costs, the yardstick the storage path is compared with.
//!
//! Per batch, two transactions, as the engine writes them:
//! 1. the claim: the batch's due invoices CHARGING (with their key namespace and first-send
//!    time), one intent row each in `charge_attempts`, the run's claim count;
//! 2. the outcome: the invoices PAID, their attempts completed as charged, one `invoice.paid`
//!    outbox row each, the console totals (totals, this month's collected amounts and the
//!    run's calls per minute), the run's paid count.

use antaeus_core::store::StoreError;
use antaeus_models::{Currency, InvoiceStatus, Money, RunId};
use chrono::{NaiveDateTime, Utc};
use diesel::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Timestamp};

use crate::Database;
use crate::error::{pool_unavailable, store_error};
use crate::pool::{Pools, SqlitePool};
use crate::schema::{billing_runs, charge_attempts, invoices, outbox};
use crate::stats::{StatsDelta, apply_stats};
use crate::time::to_db;

/// SQLite: claim the next fresh invoices in one statement (the engine's candidate query).
const SQLITE_CLAIM: &str = "UPDATE invoices SET status = 'CHARGING', claimed_by = ?, \
    claimed_at = ?, attempts = attempts + 1, fence = fence + 1, \
    key_ns = COALESCE(key_ns, ?), key_sent_at = COALESCE(key_sent_at, ?) \
    WHERE id IN (SELECT id FROM invoices INDEXED BY invoices_due \
        WHERE status = 'PENDING' AND next_attempt_at IS NULL AND id > ? AND due_at <= ? \
        ORDER BY id LIMIT ?) \
    RETURNING id, attempts, amount_minor, currency";

/// PostgreSQL: the same, rows locked `FOR UPDATE SKIP LOCKED` as the engine locks them.
const POSTGRES_CLAIM: &str = "UPDATE invoices SET status = 'CHARGING', claimed_by = $1, \
    claimed_at = $2, attempts = attempts + 1, fence = fence + 1, \
    key_ns = COALESCE(key_ns, $3), key_sent_at = COALESCE(key_sent_at, $4) \
    WHERE id IN (SELECT id FROM invoices \
        WHERE status = 'PENDING' AND next_attempt_at IS NULL AND id > $5 AND due_at <= $6 \
        ORDER BY id LIMIT $7 FOR UPDATE SKIP LOCKED) \
    RETURNING id, attempts, amount_minor, currency";

/// One claimed invoice.
#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = BigInt)]
    amount_minor: i64,
    #[diesel(sql_type = Text)]
    currency: String,
}

/// `None` goes in as NULL (the column's default): with diesel's `DEFAULT` for it, SQLite, which
/// has no `DEFAULT` in a `VALUES` list, would get one statement per row instead of plain
/// batched SQL (as the engine's outbox rows and, as JSON, its intents go in).
#[derive(Insertable)]
#[diesel(table_name = charge_attempts, treat_none_as_default_value = false)]
struct Intent<'a> {
    invoice_id: i64,
    run_id: Option<i64>,
    attempt_number: i32,
    idempotency_key: String,
    instance_id: &'a str,
    started_at: NaiveDateTime,
}

/// `None` goes in as NULL, as for [`Intent`].
#[derive(Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
struct Event {
    event_id: String,
    event_type: &'static str,
    payload: String,
    created_at: NaiveDateTime,
    available_at: NaiveDateTime,
    invoice_id: Option<i64>,
}

/// The claim of one batch, in the transaction `$c` is in; evaluates to
/// `QueryResult<Vec<Claimed>>`.
macro_rules! claim_writes {
    ($c:ident, $claim:expr, $run:expr, $owner:expr, $after:expr, $limit:expr) => {{
        let now = to_db(Utc::now());
        let run: i64 = $run;
        let owner: &str = $owner;
        let claimed: Vec<Claimed> = diesel::sql_query($claim)
            .bind::<Text, _>(owner)
            .bind::<Timestamp, _>(now)
            .bind::<Text, _>("byhand")
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>($after)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>($limit)
            .load($c)?;
        let intents: Vec<Intent> = claimed
            .iter()
            .map(|i| Intent {
                invoice_id: i.id,
                run_id: Some(run),
                attempt_number: i.attempts,
                idempotency_key: format!("antaeus-byhand-{}-0", i.id),
                instance_id: owner,
                started_at: now,
            })
            .collect();
        for chunk in intents.chunks(ROWS_PER_STATEMENT) {
            diesel::insert_into(charge_attempts::table)
                .values(chunk)
                .execute($c)?;
        }
        diesel::update(billing_runs::table.find(run))
            .set(billing_runs::claimed.eq(billing_runs::claimed + claimed.len() as i64))
            .execute($c)?;
        Ok::<_, diesel::result::Error>(claimed)
    }};
}

/// The outcome of one claimed batch, all charged, in the transaction `$c` is in; evaluates to
/// `QueryResult<()>`.
macro_rules! finish_writes {
    ($c:ident, $run:expr, $owner:expr, $claimed:expr) => {{
        let run: i64 = $run;
        let owner: &str = $owner;
        let claimed: &[Claimed] = $claimed;
        let finished = to_db(Utc::now());
        let ids: Vec<i64> = claimed.iter().map(|i| i.id).collect();
        let mut stats = StatsDelta::default();
        for invoice in claimed {
            let amount = money(invoice)?;
            stats.moved(InvoiceStatus::Charging, InvoiceStatus::Paid, amount);
            stats.collected(Utc::now(), amount);
            stats.call(run, Utc::now(), "charged");
        }
        let events: Vec<Event> = claimed.iter().map(|i| paid_event(i, finished)).collect();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            diesel::update(
                invoices::table
                    .filter(invoices::id.eq_any(chunk))
                    .filter(invoices::status.eq("CHARGING"))
                    .filter(invoices::claimed_by.eq(owner)),
            )
            .set((
                invoices::status.eq("PAID"),
                invoices::claimed_by.eq(None::<String>),
                invoices::claimed_at.eq(None::<NaiveDateTime>),
                invoices::key_ns.eq(None::<String>),
                invoices::key_sent_at.eq(None::<NaiveDateTime>),
            ))
            .execute($c)?;
            diesel::update(
                charge_attempts::table
                    .filter(charge_attempts::invoice_id.eq_any(chunk))
                    .filter(charge_attempts::outcome.is_null()),
            )
            .set((
                charge_attempts::outcome.eq("charged"),
                charge_attempts::finished_at.eq(finished),
            ))
            .execute($c)?;
        }
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            diesel::insert_into(outbox::table)
                .values(chunk)
                .execute($c)?;
        }
        apply_stats!($c, &stats)?;
        diesel::update(billing_runs::table.find(run))
            .set(billing_runs::paid.eq(billing_runs::paid + claimed.len() as i64))
            .execute($c)?;
        Ok::<_, diesel::result::Error>(())
    }};
}

/// One batch on SQLite's writer; returns the batch's last invoice and its size, `None` when
/// nothing was due.
fn sqlite_batch(
    pool: &SqlitePool,
    run: i64,
    owner: &str,
    after: i64,
    limit: i64,
) -> Result<Option<(i64, u64)>, StoreError> {
    let claimed = pool
        .immediate(|c| claim_writes!(c, SQLITE_CLAIM, run, owner, after, limit))?
        .map_err(store_error)?;
    let Some(last) = claimed.iter().map(|i| i.id).max() else {
        return Ok(None);
    };
    pool.immediate(|c| finish_writes!(c, run, owner, &claimed))?
        .map_err(store_error)?;
    Ok(Some((last, claimed.len() as u64)))
}

/// One batch on a PostgreSQL connection (see [`sqlite_batch`]).
fn postgres_batch(
    conn: &mut PgConnection,
    run: i64,
    owner: &str,
    after: i64,
    limit: i64,
) -> QueryResult<Option<(i64, u64)>> {
    let claimed = conn.transaction(|c| {
        // As the engine's claim: the candidates through their partial index, whatever the
        // statistics say.
        diesel::sql_query("SET LOCAL enable_seqscan = off").execute(c)?;
        claim_writes!(c, POSTGRES_CLAIM, run, owner, after, limit)
    })?;
    let Some(last) = claimed.iter().map(|i| i.id).max() else {
        return Ok(None);
    };
    conn.transaction(|c| {
        // The engine's journal's planner settings: the rows found by their keys, never by
        // scanning the attempt log, whose statistics lag behind a run; no nested loops.
        diesel::connection::SimpleConnection::batch_execute(
            c,
            "SET LOCAL enable_nestloop = off; SET LOCAL enable_seqscan = off",
        )?;
        finish_writes!(c, run, owner, &claimed)
    })?;
    Ok(Some((last, claimed.len() as u64)))
}

/// Rows per multi-row statement (at most six parameters each).
const ROWS_PER_STATEMENT: usize = 1_000;

fn money(invoice: &Claimed) -> QueryResult<Money> {
    let currency: Currency = invoice
        .currency
        .parse()
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    Money::from_minor(invoice.amount_minor, currency)
        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// An `invoice.paid` outbox row shaped like the engine's (its payload somewhat smaller: the
/// engine's invoice carries more fields).
fn paid_event(invoice: &Claimed, at: NaiveDateTime) -> Event {
    let created = at.and_utc().to_rfc3339();
    Event {
        event_id: format!("evt_byhand_{}", invoice.id),
        event_type: "invoice.paid",
        payload: format!(
            "{{\"id\":\"evt_byhand_{id}\",\"type\":\"invoice.paid\",\"createdAt\":\"{created}\",\
             \"data\":{{\"invoice\":{{\"id\":{id},\"customerId\":{id},\"amount\":{{\"value\":\"{minor}\",\
             \"currency\":\"{currency}\"}},\"status\":\"PAID\",\"attempts\":{attempts},\
             \"dueAt\":\"{created}\"}},\"attempt\":{{\"number\":{attempts},\"outcome\":\"charged\"}}}}}}",
            id = invoice.id,
            minor = invoice.amount_minor,
            currency = invoice.currency,
            attempts = invoice.attempts,
        ),
        created_at: at,
        available_at: at,
        invoice_id: Some(invoice.id),
    }
}

impl Database {
    /// Bills every fresh due invoice by hand, `batch` at a time, under `run` as `owner` (see
    /// the module's documentation); returns how many were billed. For the benchmark: it
    /// records every invoice as charged without a provider.
    pub async fn bill_by_hand(
        &self,
        run: RunId,
        owner: &str,
        batch: usize,
    ) -> Result<u64, StoreError> {
        let owner = owner.to_owned();
        let run = run.get();
        let limit = i64::try_from(batch).unwrap_or(i64::MAX);
        // One connection throughout: SQLite's writer, or one PostgreSQL connection.
        self.run(move |pools| match pools {
            Pools::Sqlite(pool) => {
                every_batch(|after| sqlite_batch(pool, run, &owner, after, limit))
            }
            Pools::Postgres(pool) => {
                let mut conn = pool.get().map_err(pool_unavailable)?;
                every_batch(|after| {
                    postgres_batch(&mut conn, run, &owner, after, limit).map_err(store_error)
                })
            }
        })
        .await
    }
}

/// Runs `batch` (given the last invoice billed) until nothing is due; returns how many were
/// billed.
fn every_batch(
    mut batch: impl FnMut(i64) -> Result<Option<(i64, u64)>, StoreError>,
) -> Result<u64, StoreError> {
    let mut billed = 0;
    let mut after = 0;
    while let Some((last, n)) = batch(after)? {
        billed += n;
        after = last;
    }
    Ok(billed)
}
