//! Row locks where the backend needs them. SQLite writes in `BEGIN IMMEDIATE` transactions,
//! one writer at a time, so a row read in one is the row written; PostgreSQL lets writers run
//! together, so a transaction that decides from a row it read must lock it.

use diesel::sql_types::{Array, BigInt};
use diesel::{PgConnection, QueryResult, RunQueryDsl, SqliteConnection};

/// Locks customer rows for the rest of the transaction.
pub(crate) trait LockCustomers {
    /// Holds `ids` against changes (an invoice is being created for them): `FOR SHARE`.
    fn share_customers(&mut self, ids: &[i64]) -> QueryResult<()>;

    /// Holds customer `id` for a change of its own: `FOR UPDATE`.
    fn lock_customer(&mut self, id: i64) -> QueryResult<()>;
}

impl LockCustomers for SqliteConnection {
    fn share_customers(&mut self, _ids: &[i64]) -> QueryResult<()> {
        Ok(())
    }

    fn lock_customer(&mut self, _id: i64) -> QueryResult<()> {
        Ok(())
    }
}

impl LockCustomers for PgConnection {
    fn share_customers(&mut self, ids: &[i64]) -> QueryResult<()> {
        if ids.is_empty() {
            return Ok(());
        }
        diesel::sql_query("SELECT 1 FROM customers WHERE id = ANY($1) ORDER BY id FOR SHARE")
            .bind::<Array<BigInt>, _>(ids)
            .execute(self)
            .map(|_| ())
    }

    fn lock_customer(&mut self, id: i64) -> QueryResult<()> {
        diesel::sql_query("SELECT 1 FROM customers WHERE id = $1 FOR UPDATE")
            .bind::<BigInt, _>(id)
            .execute(self)
            .map(|_| ())
    }
}
