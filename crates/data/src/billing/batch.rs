//! Set-based statements for the journal's hot path: one statement per batch instead of one per
//! invoice. PostgreSQL passes the batch as arrays to `unnest` (a fixed number of parameters, so
//! one cached plan), with `id = ANY(ids)` so that the planner probes the primary key instead of
//! hashing every claimed row its statistics may not know about; SQLite as one JSON array read
//! back with `json_each` and joined with `UPDATE … FROM` (one parameter too: see [`json_array`]).
//! On SQLite a row's columns are read by position (`value ->> 0`, …): integers as integers,
//! text as text, `null` as NULL. The rows are `MATERIALIZED` first: otherwise SQLite plans the
//! join from the table's side (every CHARGING invoice, say) and reads the whole array again
//! for each of its rows, quadratic in the batch, where the materialized rows are each looked
//! up by key.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Nullable, Text, Timestamp};
use diesel::{PgConnection, SqliteConnection};

use crate::db_time::sqlite_text;
use crate::json_param::json_array;

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
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let data = json_array(rows.iter().map(|r| {
            (
                r.id,
                r.fence,
                r.attempts_after,
                r.status,
                r.next_attempt_at.map(sqlite_text),
                r.failure_reason,
                r.key_seq,
                r.declines,
                r.unknown_streak,
                i32::from(r.keep_intent),
                r.open_intent.as_deref(),
                r.payment_ref.as_deref(),
            )
        }))?;
        let found = diesel::sql_query(sqlite_finish_sql())
            .bind::<Text, _>(data)
            .bind::<Text, _>(owner)
            .load(self)?;
        Ok(ids(found))
    }

    fn advance_attempts(&mut self, owner: &str, rows: &[(i64, i32)]) -> QueryResult<Vec<i64>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let found = diesel::sql_query(SQLITE_ADVANCE)
            .bind::<Text, _>(json_array(rows.iter())?)
            .bind::<Text, _>(owner)
            .load(self)?;
        Ok(ids(found))
    }

    fn complete_attempts(&mut self, rows: &[CompletionRow]) -> QueryResult<Vec<(i64, i32)>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let data = json_array(rows.iter().map(|r| {
            (
                r.invoice_id,
                r.attempt_number,
                r.outcome,
                r.message.as_deref(),
                r.decline_code.as_deref(),
                r.provider_ref.as_deref(),
                sqlite_text(r.finished_at),
            )
        }))?;
        let completed: Vec<AttemptKey> = diesel::sql_query(SQLITE_COMPLETE)
            .bind::<Text, _>(data)
            .load(self)?;
        Ok(attempt_keys(completed).collect())
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

/// SQLite: ends the claims in the JSON rows (binds: rows as [`json_array`], owner).
fn sqlite_finish_sql() -> String {
    format!(
        "WITH data AS MATERIALIZED (SELECT value ->> 0 AS id, value ->> 1 AS fence, \
         value ->> 2 AS attempts_after, value ->> 3 AS status, value ->> 4 AS next_attempt_at, \
         value ->> 5 AS failure_reason, value ->> 6 AS key_seq, value ->> 7 AS declines, \
         value ->> 8 AS unknown_streak, value ->> 9 AS keep_intent, value ->> 10 AS open_intent, \
         value ->> 11 AS payment_ref FROM json_each(?)) \
         UPDATE invoices SET status = data.status, next_attempt_at = data.next_attempt_at, \
         failure_reason = data.failure_reason, key_seq = data.key_seq, declines = data.declines, \
         unknown_streak = data.unknown_streak, attempts = data.attempts_after, \
         claimed_by = NULL, claimed_at = NULL, \
         {FINISH_KEY_AND_PAYMENTS} \
         FROM data WHERE invoices.id = data.id AND invoices.status = 'CHARGING' \
         AND invoices.claimed_by = ? AND invoices.fence = data.fence \
         RETURNING invoices.id AS id"
    )
}

/// SQLite: moves claims to their next attempt (binds: rows of (id, fence), owner).
const SQLITE_ADVANCE: &str = "WITH data AS MATERIALIZED (SELECT value ->> 0 AS id, value ->> 1 AS fence FROM json_each(?)) \
         UPDATE invoices SET attempts = invoices.attempts + 1, fence = data.fence + 1 \
         FROM data WHERE invoices.id = data.id AND invoices.status = 'CHARGING' \
         AND invoices.claimed_by = ? AND invoices.fence = data.fence \
         RETURNING invoices.id AS id";

/// SQLite: records how calls ended (binds: rows).
const SQLITE_COMPLETE: &str = "WITH data AS MATERIALIZED (SELECT value ->> 0 AS invoice_id, value ->> 1 AS attempt_number, \
         value ->> 2 AS outcome, value ->> 3 AS message, value ->> 4 AS decline_code, \
         value ->> 5 AS provider_ref, value ->> 6 AS finished_at FROM json_each(?)) \
         UPDATE charge_attempts SET outcome = data.outcome, message = data.message, \
         decline_code = data.decline_code, provider_ref = data.provider_ref, \
         finished_at = data.finished_at FROM data \
         WHERE charge_attempts.invoice_id = data.invoice_id \
         AND charge_attempts.attempt_number = data.attempt_number \
         AND (charge_attempts.outcome IS NULL OR charge_attempts.outcome = 'abandoned') \
         RETURNING charge_attempts.invoice_id AS invoice_id, \
         charge_attempts.attempt_number AS attempt_number";

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

#[cfg(test)]
mod tests {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use diesel_migrations::MigrationHarness;

    #[derive(QueryableByName)]
    struct Step {
        #[diesel(sql_type = Text)]
        detail: String,
    }

    /// SQLite's plan of `sql`, its steps joined by newlines.
    fn plan(sql: &str, binds: usize) -> String {
        let mut c = crate::sqlite_init::open(":memory:").unwrap();
        c.run_pending_migrations(crate::migrate::SQLITE_MIGRATIONS)
            .unwrap();
        let query = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}")).into_boxed();
        let query = (0..binds).fold(query, |q, _| q.bind::<Text, _>("[]"));
        let steps: Vec<Step> = query.load(&mut c).unwrap();
        steps
            .into_iter()
            .map(|s| s.detail)
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn each_batch_statement_reads_its_rows_once_and_finds_each_row_by_key() {
        // Unmaterialized, SQLite ran the update from the table's side (every CHARGING invoice)
        // and read the whole array again for each: quadratic in the batch.
        for (sql, binds, lookup) in [
            (
                super::sqlite_finish_sql(),
                2,
                "SEARCH invoices USING INTEGER PRIMARY KEY",
            ),
            (
                super::SQLITE_ADVANCE.to_owned(),
                2,
                "SEARCH invoices USING INTEGER PRIMARY KEY",
            ),
            (
                super::SQLITE_COMPLETE.to_owned(),
                1,
                "SEARCH charge_attempts USING INDEX",
            ),
        ] {
            let plan = plan(&sql, binds);
            assert!(plan.contains("MATERIALIZE data"), "{plan}");
            assert!(plan.contains(lookup), "{plan}");
        }
    }
}
