//! Row locks where the backend needs them. SQLite writes in `BEGIN IMMEDIATE` transactions,
//! one writer at a time, so a row read in one is the row written; PostgreSQL lets writers run
//! together, so a transaction that decides from a row it read must lock it.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel::{PgConnection, QueryResult, RunQueryDsl, SqliteConnection};

use super::ROWS_PER_STATEMENT;
use crate::schema::customers;

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
        // Adds to `$rows` the customers whose `$column` is one of `$values`, a statement a chunk.
        macro_rules! load_by {
            ($rows:ident, $column:expr, $values:expr) => {
                for chunk in $values.chunks(ROWS_PER_STATEMENT) {
                    let found = customers::table
                        .filter($column.eq_any(chunk))
                        .select((customers::id, customers::currency, customers::external_id))
                        .load::<(i64, String, Option<String>)>(self)?;
                    $rows.extend(found.into_iter().map(|(id, currency, external_id)| {
                        HeldCustomer {
                            id,
                            currency,
                            external_id,
                        }
                    }));
                }
            };
        }
        let mut rows = Vec::new();
        load_by!(rows, customers::id, ids);
        load_by!(rows, customers::external_id, externals);
        Ok(rows)
    }

    fn lock_customer(&mut self, _id: i64) -> QueryResult<()> {
        Ok(())
    }
}

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
