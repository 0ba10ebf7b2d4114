//! Row locks where the backend needs them. SQLite writes in `BEGIN IMMEDIATE` transactions,
//! one writer at a time, so a row read in one is the row written; PostgreSQL lets writers run
//! together, so a transaction that decides from a row it read must lock it.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel::{PgConnection, QueryResult, RunQueryDsl, SqliteConnection};

use crate::json_param::json_array;

/// A customer an invoice batch names: its id, currency and external id.
#[derive(QueryableByName)]
pub(crate) struct HeldCustomer {
    /// Its id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its currency's code.
    #[diesel(sql_type = Text)]
    pub currency: String,
    /// Its external id, if it has one.
    #[diesel(sql_type = Nullable<Text>)]
    pub external_id: Option<String>,
}

/// Locks customer rows for the rest of the transaction.
pub(crate) trait LockCustomers {
    /// The customers with these `ids` and `externals` (ids unknown are left out), read and held
    /// against changes (invoices are being created for them) until the transaction ends:
    /// PostgreSQL locks them `FOR SHARE` and answers what it locked. `ids` and `externals`
    /// come sorted and without duplicates.
    fn hold_customers(&mut self, ids: &[i64], externals: &[&str])
    -> QueryResult<Vec<HeldCustomer>>;

    /// Holds customer `id` for a change of its own: `FOR UPDATE`.
    fn lock_customer(&mut self, id: i64) -> QueryResult<()>;
}

impl LockCustomers for SqliteConnection {
    fn hold_customers(
        &mut self,
        ids: &[i64],
        externals: &[&str],
    ) -> QueryResult<Vec<HeldCustomer>> {
        // One parameter whatever the batch's size: a short statement, cheap to prepare (diesel
        // prepares a `sql_query` on every use), where an `IN` list of a batch's thousand keys
        // took a statement of a thousand parameters to parse for every batch.
        let mut rows = Vec::new();
        for (query, keys) in [
            (SQLITE_HOLD_BY_ID, json_keys(ids)?),
            (SQLITE_HOLD_BY_EXTERNAL, json_keys(externals)?),
        ] {
            if let Some(keys) = keys {
                rows.extend(
                    diesel::sql_query(query)
                        .bind::<Text, _>(keys)
                        .load::<HeldCustomer>(self)?,
                );
            }
        }
        Ok(rows)
    }

    fn lock_customer(&mut self, _id: i64) -> QueryResult<()> {
        Ok(())
    }
}

/// `keys` as one JSON array, or `None` when there are none (nothing to look up).
fn json_keys<T: serde::Serialize>(keys: &[T]) -> QueryResult<Option<String>> {
    if keys.is_empty() {
        return Ok(None);
    }
    json_array(keys.iter()).map(Some)
}

/// On SQLite, customers by id: the keys of a JSON array, each looked up through the primary
/// key (`CROSS JOIN` keeps the array as the outer loop).
const SQLITE_HOLD_BY_ID: &str = "SELECT c.id, c.currency, c.external_id FROM json_each(?) AS k \
     CROSS JOIN customers c ON c.id = k.value";

/// On SQLite, customers by external id, as [`SQLITE_HOLD_BY_ID`] through the external id's
/// unique index.
const SQLITE_HOLD_BY_EXTERNAL: &str = "SELECT c.id, c.currency, c.external_id \
     FROM json_each(?) AS k CROSS JOIN customers c ON c.external_id = k.value";

/// Customers by id, each looked up through the primary key and locked `FOR SHARE` in the
/// array's order. (`WHERE id = ANY($1)` reads the whole table once the array is long: the
/// planner prices a thousand index probes above a scan of 100,000 rows, which took 10 ms.)
const HOLD_BY_ID: &str = "SELECT c.id, c.currency, c.external_id FROM unnest($1::bigint[]) AS k(id) \
     CROSS JOIN LATERAL (SELECT id, currency, external_id FROM customers \
     WHERE customers.id = k.id LIMIT 1 FOR SHARE) c";

/// Customers by external id, as [`HOLD_BY_ID`] through the external id's unique index.
const HOLD_BY_EXTERNAL: &str = "SELECT c.id, c.currency, c.external_id \
     FROM unnest($1::text[]) AS k(external_id) \
     CROSS JOIN LATERAL (SELECT id, currency, external_id FROM customers \
     WHERE customers.external_id = k.external_id LIMIT 1 FOR SHARE) c";

impl LockCustomers for PgConnection {
    /// Share locks never wait for one another, and the only other customer locks are a single
    /// row's (`lock_customer`) or an upsert's, so the order they are taken in cannot deadlock
    /// more than an id order would.
    fn hold_customers(
        &mut self,
        ids: &[i64],
        externals: &[&str],
    ) -> QueryResult<Vec<HeldCustomer>> {
        let mut rows = Vec::new();
        if !ids.is_empty() {
            rows.extend(
                diesel::sql_query(HOLD_BY_ID)
                    .bind::<Array<BigInt>, _>(ids)
                    .load::<HeldCustomer>(self)?,
            );
        }
        if !externals.is_empty() {
            rows.extend(
                diesel::sql_query(HOLD_BY_EXTERNAL)
                    .bind::<Array<Text>, _>(externals)
                    .load::<HeldCustomer>(self)?,
            );
        }
        Ok(rows)
    }

    fn lock_customer(&mut self, id: i64) -> QueryResult<()> {
        diesel::sql_query("SELECT 1 FROM customers WHERE id = $1 FOR UPDATE")
            .bind::<BigInt, _>(id)
            .execute(self)
            .map(|_| ())
    }
}
