//! Inserting a chunk of invoices that have external ids, skipping the (customer, external id)
//! pairs taken already, in one statement per backend's best form.

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};
use diesel::{PgConnection, QueryResult, SqliteConnection};

use super::new_invoices::NewInvoiceRow;
use crate::rows::InvoiceRow;
use crate::schema::invoices;

/// Inserts invoice rows whose (customer, external id) pair may be taken.
pub(crate) trait InsertNew {
    /// Inserts `rows`, skipping each whose (customer, external id) pair is taken; answers the
    /// rows inserted, in no particular order.
    fn insert_new(&mut self, rows: &[NewInvoiceRow]) -> QueryResult<Vec<InvoiceRow>>;
}

impl InsertNew for SqliteConnection {
    /// One multi-row `INSERT … VALUES`: SQLite binds in process, so eight parameters a row
    /// cost little. (Inserting a full chunk as an array, whose statement diesel prepares once
    /// per connection, measured no faster.)
    fn insert_new(&mut self, rows: &[NewInvoiceRow]) -> QueryResult<Vec<InvoiceRow>> {
        diesel::insert_into(invoices::table)
            .values(rows)
            .on_conflict((invoices::external_id, invoices::customer_id))
            .do_nothing()
            .returning(InvoiceRow::as_returning())
            .get_results(self)
    }
}

/// The chunk as one array a column, unnested: the statement's text is the same for every
/// chunk (prepared once per connection), and the server parses eight parameters rather than
/// eight thousand.
const INSERT_UNNESTED: &str = "INSERT INTO invoices \
     (customer_id, amount_minor, currency, status, external_id, due_at, description, created_at) \
     SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], \
     $6::timestamp[], $7::text[], $8::timestamp[]) \
     ON CONFLICT (external_id, customer_id) DO NOTHING \
     RETURNING id, customer_id, amount_minor, currency, status, attempts, next_attempt_at, \
     failure_reason, external_id, due_at, description, refunded_minor, dispute_id, \
     dispute_status, dispute_reason, dispute_amount_minor, dispute_evidence_due_by, extra_charges";

impl InsertNew for PgConnection {
    fn insert_new(&mut self, rows: &[NewInvoiceRow]) -> QueryResult<Vec<InvoiceRow>> {
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
            .bind::<Array<Timestamp>, _>(column(rows, |r| r.due_at))
            .bind::<Array<Nullable<Text>>, _>(column(rows, |r| r.description))
            .bind::<Array<Timestamp>, _>(column(rows, |r| r.created_at))
            .load(self)
    }
}
