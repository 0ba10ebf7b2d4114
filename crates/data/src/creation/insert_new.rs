//! Inserting a chunk of invoices that have external ids, skipping the (customer, external id)
//! pairs taken already, in one statement per backend's best form. Each answers only the keys
//! of the rows it inserted: the rest of a new row is what was inserted (see
//! `NewInvoiceRow::stored`), and reading whole rows back cost an import a tenth of its time.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
use diesel::{PgConnection, QueryResult, SqliteConnection};

use super::ROWS_PER_STATEMENT;
use super::new_invoices::NewInvoiceRow;
use crate::schema::invoices;

/// An invoice row inserted: its id, and the (customer, external id) pair that tells which.
#[derive(Debug, Queryable, QueryableByName)]
pub(crate) struct InsertedKey {
    /// The new invoice's id.
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// Its customer.
    #[diesel(sql_type = BigInt)]
    pub customer_id: i64,
    /// Its external id.
    #[diesel(sql_type = Nullable<Text>)]
    pub external_id: Option<String>,
}

/// Inserts invoice rows whose (customer, external id) pair may be taken.
pub(crate) trait InsertNew {
    /// Inserts `rows`, skipping each whose (customer, external id) pair is taken; answers the
    /// keys of the rows inserted, in no particular order.
    fn insert_new(&mut self, rows: &[NewInvoiceRow]) -> QueryResult<Vec<InsertedKey>>;
}

impl InsertNew for SqliteConnection {
    /// One multi-row `INSERT … VALUES`: SQLite binds in process, so eight parameters a row
    /// cost little. A full chunk goes as an array, whose statement diesel prepares once per
    /// connection and reuses (parsing it anew for every chunk cost an import about 6% of its
    /// time); a shorter one is prepared for itself.
    fn insert_new(&mut self, rows: &[NewInvoiceRow]) -> QueryResult<Vec<InsertedKey>> {
        macro_rules! insert {
            ($values:expr) => {
                diesel::insert_into(invoices::table)
                    .values($values)
                    .on_conflict((invoices::external_id, invoices::customer_id))
                    .do_nothing()
                    .returning((invoices::id, invoices::customer_id, invoices::external_id))
                    .get_results(self)
            };
        }
        match <&[NewInvoiceRow; ROWS_PER_STATEMENT]>::try_from(rows) {
            Ok(full) => insert!(full),
            Err(_) => insert!(rows),
        }
    }
}

/// The chunk as one array a column, unnested: the statement's text is the same for every
/// chunk, and the server parses eight parameters rather than eight thousand (diesel does not
/// cache a `sql_query`, so it is still prepared for each chunk).
const INSERT_UNNESTED: &str = "INSERT INTO invoices \
     (customer_id, amount_minor, currency, status, external_id, due_at, description, created_at) \
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
     $6::timestamp[], $7::text[], $8::timestamp[]) \
     ON CONFLICT (external_id, customer_id) DO NOTHING \
     RETURNING id, customer_id, external_id";

impl InsertNew for PgConnection {
    fn insert_new(&mut self, rows: &[NewInvoiceRow]) -> QueryResult<Vec<InsertedKey>> {
        fn column<'r, T>(
            rows: &'r [NewInvoiceRow],
            field: impl Fn(&'r NewInvoiceRow) -> T,
        ) -> Vec<T> {
            rows.iter().map(field).collect()
        }
        diesel::sql_query(INSERT_UNNESTED)
            .bind::<Array<BigInt>, _>(column(rows, |r| r.customer_id))
            .bind::<Array<BigInt>, _>(column(rows, |r| r.amount_minor))
            .bind::<Array<Text>, _>(column(rows, |r| r.currency))
            .bind::<Array<Text>, _>(column(rows, |r| r.status))
            .bind::<Array<Nullable<Text>>, _>(column(rows, |r| r.external_id))
            .bind::<Array<Timestamp>, _>(column(rows, |r| r.due_at.0))
            .bind::<Array<Nullable<Text>>, _>(column(rows, |r| r.description))
            .bind::<Array<Timestamp>, _>(column(rows, |r| r.created_at.0))
            .load(self)
    }
}
