//! Set-based statements for the journal's hot path: one statement per batch instead of one per
//! invoice. PostgreSQL passes the batch as arrays to `unnest` (a fixed number of parameters, so
//! one cached plan), with `id = ANY(ids)` so that the planner probes the primary key instead of
//! hashing every claimed row its statistics may not know about; SQLite as a `VALUES` list joined
//! with `UPDATE … FROM`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, SqliteConnection};

/// The new state of one invoice whose claim ends.
#[derive(Debug, Clone)]
pub(crate) struct FinishRow {
    pub id: i64,
    pub fence: i32,
    pub attempts_after: i32,
    pub status: &'static str,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub failure_reason: Option<&'static str>,
    pub key_seq: i32,
    pub declines: i32,
    pub unknown_streak: i32,
    /// Leave the invoice's open payment as it is (else set it to `open_intent`).
    pub keep_intent: bool,
    /// The payment that may still complete once the claim ends.
    pub open_intent: Option<String>,
    /// The payment that paid the invoice, when it is PAID now.
    pub payment_ref: Option<String>,
}

/// How one provider call ended.
#[derive(Debug, Clone)]
pub(crate) struct CompletionRow {
    pub invoice_id: i64,
    pub attempt_number: i32,
    pub outcome: &'static str,
    pub message: Option<String>,
    pub decline_code: Option<String>,
    pub provider_ref: Option<String>,
    pub finished_at: NaiveDateTime,
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The batch statements, one implementation per backend.
pub(crate) trait BatchWrites {
    /// Ends the claims `owner` still holds at the given fences; returns the invoices updated.
    fn finish_claims(&mut self, owner: &str, rows: &[FinishRow]) -> QueryResult<Vec<i64>>;

    /// Moves each claim `owner` holds at `fence` to `fence + 1`, and its attempt count to the
    /// next attempt; returns the invoices moved.
    fn advance_attempts(&mut self, owner: &str, rows: &[(i64, i32)]) -> QueryResult<Vec<i64>>;

    /// Records how calls ended, over an unknown or "abandoned" outcome; returns the attempts
    /// completed now, as (invoice, attempt number) (a replayed completion changes nothing).
    fn complete_attempts(&mut self, rows: &[CompletionRow]) -> QueryResult<Vec<(i64, i32)>>;
}

/// What ending a claim does to the key's namespace and first-send time (kept while the key
/// stays, cleared when it advances: the next key is sent fresh), to the payment that may still
/// complete, and to the payment that paid the invoice; `invoices` and `data` name the row and
/// the batch's values (PostgreSQL aliases them `i` and `d`, see [`pg_finish_sets`]).
const FINISH_KEY_AND_PAYMENTS: &str = "\
    key_ns = CASE WHEN invoices.key_seq = data.key_seq THEN invoices.key_ns END, \
    key_sent_at = CASE WHEN invoices.key_seq = data.key_seq THEN invoices.key_sent_at END, \
    open_intent = CASE WHEN data.keep_intent THEN invoices.open_intent ELSE data.open_intent END, \
    payment_ref = COALESCE(data.payment_ref, invoices.payment_ref)";

/// [`FINISH_KEY_AND_PAYMENTS`] with PostgreSQL's aliases.
fn pg_finish_sets() -> String {
    FINISH_KEY_AND_PAYMENTS
        .replace("invoices.", "i.")
        .replace("data.", "d.")
}

fn ids(rows: Vec<IdRow>) -> Vec<i64> {
    rows.into_iter().map(|r| r.id).collect()
}

impl BatchWrites for SqliteConnection {
    fn finish_claims(&mut self, owner: &str, rows: &[FinishRow]) -> QueryResult<Vec<i64>> {
        let statements = sqlite_statements(
            rows,
            12,
            |values| {
                format!(
                    "WITH data(id, fence, attempts_after, status, next_attempt_at, failure_reason, key_seq, declines, unknown_streak, \
                     keep_intent, open_intent, payment_ref) \
                     AS (VALUES {values}) \
                     UPDATE invoices SET status = data.status, next_attempt_at = data.next_attempt_at, \
                     failure_reason = data.failure_reason, key_seq = data.key_seq, declines = data.declines, \
                     unknown_streak = data.unknown_streak, attempts = data.attempts_after, \
                     claimed_by = NULL, claimed_at = NULL, \
                     {FINISH_KEY_AND_PAYMENTS} \
                     FROM data WHERE invoices.id = data.id AND invoices.status = 'CHARGING' \
                     AND invoices.claimed_by = ? AND invoices.fence = data.fence \
                     RETURNING invoices.id AS id"
                )
            },
            |query, r| {
                query
                    .bind::<BigInt, _>(r.id)
                    .bind::<Integer, _>(r.fence)
                    .bind::<Integer, _>(r.attempts_after)
                    .bind::<Text, _>(r.status)
                    .bind::<Nullable<Timestamp>, _>(r.next_attempt_at)
                    .bind::<Nullable<Text>, _>(r.failure_reason)
                    .bind::<Integer, _>(r.key_seq)
                    .bind::<Integer, _>(r.declines)
                    .bind::<Integer, _>(r.unknown_streak)
                    .bind::<Bool, _>(r.keep_intent)
                    .bind::<Nullable<Text>, _>(r.open_intent.clone())
                    .bind::<Nullable<Text>, _>(r.payment_ref.clone())
            },
        );
        let mut updated = Vec::with_capacity(rows.len());
        for query in statements {
            updated.extend(ids(query.bind::<Text, _>(owner).load(self)?));
        }
        Ok(updated)
    }

    fn advance_attempts(&mut self, owner: &str, rows: &[(i64, i32)]) -> QueryResult<Vec<i64>> {
        let statements = sqlite_statements(
            rows,
            2,
            |values| {
                format!(
                    "WITH data(id, fence) AS (VALUES {values}) \
                     UPDATE invoices SET attempts = invoices.attempts + 1, fence = data.fence + 1 \
                     FROM data WHERE invoices.id = data.id AND invoices.status = 'CHARGING' \
                     AND invoices.claimed_by = ? AND invoices.fence = data.fence \
                     RETURNING invoices.id AS id"
                )
            },
            |query, (id, fence)| query.bind::<BigInt, _>(*id).bind::<Integer, _>(*fence),
        );
        let mut updated = Vec::with_capacity(rows.len());
        for query in statements {
            updated.extend(ids(query.bind::<Text, _>(owner).load(self)?));
        }
        Ok(updated)
    }

    fn complete_attempts(&mut self, rows: &[CompletionRow]) -> QueryResult<Vec<(i64, i32)>> {
        let statements = sqlite_statements(
            rows,
            7,
            |values| {
                format!(
                    "WITH data(invoice_id, attempt_number, outcome, message, decline_code, provider_ref, finished_at) AS (VALUES {values}) \
                     UPDATE charge_attempts SET outcome = data.outcome, message = data.message, \
                     decline_code = data.decline_code, provider_ref = data.provider_ref, \
                     finished_at = data.finished_at FROM data \
                     WHERE charge_attempts.invoice_id = data.invoice_id \
                     AND charge_attempts.attempt_number = data.attempt_number \
                     AND (charge_attempts.outcome IS NULL OR charge_attempts.outcome = 'abandoned') \
                     RETURNING charge_attempts.invoice_id AS invoice_id, \
                     charge_attempts.attempt_number AS attempt_number"
                )
            },
            |query, r| {
                query
                    .bind::<BigInt, _>(r.invoice_id)
                    .bind::<Integer, _>(r.attempt_number)
                    .bind::<Text, _>(r.outcome)
                    .bind::<Nullable<Text>, _>(r.message.clone())
                    .bind::<Nullable<Text>, _>(r.decline_code.clone())
                    .bind::<Nullable<Text>, _>(r.provider_ref.clone())
                    .bind::<Timestamp, _>(r.finished_at)
            },
        );
        let mut completed = Vec::with_capacity(rows.len());
        for query in statements {
            completed.extend(attempt_keys(query.load(self)?));
        }
        Ok(completed)
    }
}

#[derive(QueryableByName)]
struct AttemptKey {
    #[diesel(sql_type = BigInt)]
    invoice_id: i64,
    #[diesel(sql_type = Integer)]
    attempt_number: i32,
}

fn attempt_keys(rows: Vec<AttemptKey>) -> impl Iterator<Item = (i64, i32)> {
    rows.into_iter().map(|r| (r.invoice_id, r.attempt_number))
}

type SqliteQuery<'a> = BoxedSqlQuery<'a, Sqlite, SqlQuery>;

/// One statement per chunk of `rows`: `sql` given the chunk's `VALUES` list of `columns`
/// parameters per row, with each row's parameters bound by `bind` (parameters after the list,
/// such as the owner, are bound by the caller).
fn sqlite_statements<'a, R>(
    rows: &'a [R],
    columns: usize,
    sql: impl Fn(&str) -> String + 'a,
    bind: impl Fn(SqliteQuery<'a>, &'a R) -> SqliteQuery<'a> + 'a,
) -> impl Iterator<Item = SqliteQuery<'a>> + 'a {
    rows.chunks(SQLITE_ROWS).map(move |chunk| {
        let query = diesel::sql_query(sql(&values_list(chunk.len(), columns))).into_boxed();
        chunk.iter().fold(query, &bind)
    })
}

/// Rows per SQLite statement: at most 12 parameters each, under SQLite's 32,766.
const SQLITE_ROWS: usize = 2_000;

/// `(?, ?, …), (?, ?, …), …`: `rows` tuples of `columns` parameters.
fn values_list(rows: usize, columns: usize) -> String {
    let tuple = format!("({})", vec!["?"; columns].join(", "));
    vec![tuple; rows].join(", ")
}

impl BatchWrites for PgConnection {
    fn finish_claims(&mut self, owner: &str, rows: &[FinishRow]) -> QueryResult<Vec<i64>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let col = |f: fn(&FinishRow) -> i32| rows.iter().map(f).collect::<Vec<i32>>();
        let text = |f: fn(&FinishRow) -> Option<&str>| rows.iter().map(f).collect::<Vec<_>>();
        let found = diesel::sql_query(format!(
            "UPDATE invoices AS i SET status = d.status, next_attempt_at = d.next_attempt_at, \
             failure_reason = d.failure_reason, key_seq = d.key_seq, declines = d.declines, \
             unknown_streak = d.unknown_streak, attempts = d.attempts_after, \
             claimed_by = NULL, claimed_at = NULL, {} \
             FROM unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::timestamp[], $6::text[], \
                         $7::int[], $8::int[], $9::int[], $11::bool[], $12::text[], $13::text[]) \
                  AS d(id, fence, attempts_after, status, next_attempt_at, failure_reason, key_seq, declines, unknown_streak, \
                       keep_intent, open_intent, payment_ref) \
             WHERE i.id = ANY($1) AND i.id = d.id AND i.status = 'CHARGING' AND i.claimed_by = $10 \
             AND i.fence = d.fence RETURNING i.id AS id",
            pg_finish_sets()
        ))
        .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.id).collect::<Vec<i64>>())
        .bind::<Array<Integer>, _>(col(|r| r.fence))
        .bind::<Array<Integer>, _>(col(|r| r.attempts_after))
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.status).collect::<Vec<&str>>())
        .bind::<Array<Nullable<Timestamp>>, _>(
            rows.iter().map(|r| r.next_attempt_at).collect::<Vec<_>>(),
        )
        .bind::<Array<Nullable<Text>>, _>(
            rows.iter().map(|r| r.failure_reason).collect::<Vec<Option<&str>>>(),
        )
        .bind::<Array<Integer>, _>(col(|r| r.key_seq))
        .bind::<Array<Integer>, _>(col(|r| r.declines))
        .bind::<Array<Integer>, _>(col(|r| r.unknown_streak))
        .bind::<Text, _>(owner)
        .bind::<Array<Bool>, _>(rows.iter().map(|r| r.keep_intent).collect::<Vec<bool>>())
        .bind::<Array<Nullable<Text>>, _>(text(|r| r.open_intent.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(text(|r| r.payment_ref.as_deref()))
        .load(self)?;
        Ok(ids(found))
    }

    fn advance_attempts(&mut self, owner: &str, rows: &[(i64, i32)]) -> QueryResult<Vec<i64>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let found = diesel::sql_query(
            "UPDATE invoices AS i SET attempts = i.attempts + 1, fence = d.fence + 1 \
             FROM unnest($1::bigint[], $2::int[]) AS d(id, fence) \
             WHERE i.id = ANY($1) AND i.id = d.id AND i.status = 'CHARGING' AND i.claimed_by = $3 \
             AND i.fence = d.fence RETURNING i.id AS id",
        )
        .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.0).collect::<Vec<i64>>())
        .bind::<Array<Integer>, _>(rows.iter().map(|r| r.1).collect::<Vec<i32>>())
        .bind::<Text, _>(owner)
        .load(self)?;
        Ok(ids(found))
    }

    fn complete_attempts(&mut self, rows: &[CompletionRow]) -> QueryResult<Vec<(i64, i32)>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let completed: Vec<AttemptKey> = diesel::sql_query(
            "UPDATE charge_attempts AS a SET outcome = d.outcome, message = d.message, \
             decline_code = d.decline_code, provider_ref = d.provider_ref, \
             finished_at = d.finished_at \
             FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], \
                         $7::timestamp[]) \
                  AS d(invoice_id, attempt_number, outcome, message, decline_code, provider_ref, finished_at) \
             WHERE a.invoice_id = ANY($1) AND a.invoice_id = d.invoice_id \
             AND a.attempt_number = d.attempt_number \
             AND (a.outcome IS NULL OR a.outcome = 'abandoned') \
             RETURNING a.invoice_id AS invoice_id, a.attempt_number AS attempt_number",
        )
        .bind::<Array<BigInt>, _>(rows.iter().map(|r| r.invoice_id).collect::<Vec<i64>>())
        .bind::<Array<Integer>, _>(rows.iter().map(|r| r.attempt_number).collect::<Vec<i32>>())
        .bind::<Array<Text>, _>(rows.iter().map(|r| r.outcome).collect::<Vec<&str>>())
        .bind::<Array<Nullable<Text>>, _>(text_column(rows, |r| r.message.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(text_column(rows, |r| r.decline_code.as_deref()))
        .bind::<Array<Nullable<Text>>, _>(text_column(rows, |r| r.provider_ref.as_deref()))
        .bind::<Array<Timestamp>, _>(rows.iter().map(|r| r.finished_at).collect::<Vec<_>>())
        .load(self)?;
        Ok(attempt_keys(completed).collect())
    }
}

/// One nullable text column of the completions, as an array parameter.
fn text_column<'a>(
    rows: &'a [CompletionRow],
    column: impl Fn(&'a CompletionRow) -> Option<&'a str>,
) -> Vec<Option<&'a str>> {
    rows.iter().map(column).collect()
}
