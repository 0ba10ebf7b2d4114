//! The intent rows of a batch of provider calls (a claim's, or a journal batch's resends).
//!
//! On SQLite diesel cannot insert them in one statement: a row has optional columns, which
//! diesel writes as `DEFAULT` when `None`, and SQLite has no `DEFAULT` in a `VALUES` list, so
//! diesel falls back to one `INSERT` per row inside a savepoint, building each statement's cache
//! key anew. Here the batch goes in as one JSON array read back with `json_each` (see
//! [`json_array`]): one short statement whatever its size. Instructions counted by callgrind
//! over a 30,000-invoice storage run: the claims' 3.68 billion became 3.26 (single-row inserts
//! through diesel's statement cache, the other way out, gave 3.46). The journal's outbox rows
//! read back the same way cost more than they save (each payload is JSON text, escaped into
//! the array and read back out of it), so they go in as diesel's multi-row `VALUES` instead
//! (see `NewOutboxRow`). PostgreSQL keeps diesel's multi-row insert, one statement.

use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::{PgConnection, SqliteConnection};

use super::rows::NewAttemptRow;
use crate::db_time::sqlite_text;
use crate::json_param::json_array;
use crate::schema::charge_attempts;

/// Inserting intent rows, one implementation per backend.
pub(crate) trait InsertAttempts {
    /// Inserts the intent rows of the calls about to be made, in the order given.
    fn insert_attempts(&mut self, rows: &[NewAttemptRow]) -> QueryResult<()>;
}

impl InsertAttempts for SqliteConnection {
    fn insert_attempts(&mut self, rows: &[NewAttemptRow]) -> QueryResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let data = json_array(rows.iter().map(|r| {
            (
                r.invoice_id,
                r.run_id,
                r.attempt_number,
                &r.idempotency_key,
                &r.instance_id,
                sqlite_text(r.started_at),
                r.customer_ref.as_deref(),
                r.payment_method_ref.as_deref(),
            )
        }))?;
        diesel::sql_query(SQLITE_INSERT_ATTEMPTS)
            .bind::<Text, _>(data)
            .execute(self)
            .map(|_| ())
    }
}

impl InsertAttempts for PgConnection {
    fn insert_attempts(&mut self, rows: &[NewAttemptRow]) -> QueryResult<()> {
        if !rows.is_empty() {
            diesel::insert_into(charge_attempts::table)
                .values(rows)
                .execute(self)?;
        }
        Ok(())
    }
}

/// SQLite: intent rows from a JSON array of (invoice, run, attempt number, key, instance,
/// started at, customer reference, payment method reference); `null` is NULL, each of these
/// columns' default. Times go in as the text diesel binds (see [`sqlite_text`]); ids get
/// their order from the array's.
const SQLITE_INSERT_ATTEMPTS: &str = "INSERT INTO charge_attempts (invoice_id, run_id, \
     attempt_number, idempotency_key, instance_id, started_at, customer_ref, payment_method_ref) \
     SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
     value ->> 6, value ->> 7 FROM json_each(?) ORDER BY key";
