//! Invoice rows to insert, and the multi-row insert of those without an external id, whose
//! rows are told apart by the order they were inserted in.

use diesel::prelude::*;

use crate::db_time::DbTime;
use crate::rows::InvoiceRow;
use crate::schema::invoices;

/// An invoice row to insert. A missing external id or description is bound as NULL rather
/// than left to the column's default, so that SQLite too inserts a chunk in one multi-row
/// statement (diesel inserts row by row where a row might take a default).
#[derive(Insertable)]
#[diesel(table_name = invoices, treat_none_as_default_value = false)]
pub(crate) struct NewInvoiceRow<'a> {
    /// The customer billed.
    pub customer_id: i64,
    /// The amount, in the currency's minor unit.
    pub amount_minor: i64,
    /// The currency's code.
    pub currency: &'static str,
    /// The status it starts in.
    pub status: &'static str,
    /// The caller's id for it, if any.
    pub external_id: Option<&'a str>,
    /// When it is due.
    pub due_at: DbTime,
    /// Its description, if any.
    pub description: Option<&'a str>,
    /// When it was created.
    pub created_at: DbTime,
}

impl NewInvoiceRow<'_> {
    /// Whether `row` is what inserting this row stored (its id aside).
    pub(crate) fn stored_as(&self, row: &InvoiceRow) -> bool {
        row.customer_id == self.customer_id
            && row.amount_minor == self.amount_minor
            && row.currency == self.currency
            && row.status == self.status
            && row.external_id.as_deref() == self.external_id
            && row.due_at == self.due_at.0
            && row.description.as_deref() == self.description
    }

    /// The row inserting this one stored under `id`: these fields, and every other column at
    /// its default (a new invoice has no attempt, failure, refund or dispute yet). The test
    /// `a_batch_of_invoices_answers_row_by_row_in_one_transaction` reads the rows back.
    pub(crate) fn stored(&self, id: i64) -> InvoiceRow {
        InvoiceRow {
            id,
            customer_id: self.customer_id,
            amount_minor: self.amount_minor,
            currency: self.currency.to_owned(),
            status: self.status.to_owned(),
            attempts: 0,
            next_attempt_at: None,
            failure_reason: None,
            external_id: self.external_id.map(str::to_owned),
            due_at: self.due_at.0,
            description: self.description.map(str::to_owned),
            refunded_minor: 0,
            dispute_id: None,
            dispute_status: None,
            dispute_reason: None,
            dispute_amount_minor: None,
            dispute_evidence_due_by: None,
            extra_charges: 0,
        }
    }
}

/// Inserts `$rows` (a `&[NewInvoiceRow]` of at most `ROWS_PER_STATEMENT` rows) in one
/// statement; evaluates to `QueryResult<Vec<InvoiceRow>>`, the rows stored, in `$rows`' order.
///
/// `RETURNING` promises no order, but both engines hand ids out in the order the statement's
/// rows are inserted, which is the `VALUES` list's: the rows returned, sorted by id, are the
/// rows given. Each is checked against its row all the same, and a mismatch fails the
/// transaction rather than answering one draft with another's invoice.
macro_rules! insert_in_order {
    ($c:ident, $rows:expr) => {{
        let rows: &[$crate::creation::new_invoices::NewInvoiceRow] = $rows;
        let mut stored: Vec<InvoiceRow> = diesel::insert_into($crate::schema::invoices::table)
            .values(rows)
            .returning(InvoiceRow::as_returning())
            .get_results($c)?;
        stored.sort_unstable_by_key(|r| r.id);
        if stored.len() == rows.len() && rows.iter().zip(&stored).all(|(n, r)| n.stored_as(r)) {
            Ok::<Vec<InvoiceRow>, diesel::result::Error>(stored)
        } else {
            Err(diesel::result::Error::DeserializationError(
                format!(
                    "{} invoices inserted answered {} rows, not in their order",
                    rows.len(),
                    stored.len()
                )
                .into(),
            ))
        }
    }};
}
pub(crate) use insert_in_order;
