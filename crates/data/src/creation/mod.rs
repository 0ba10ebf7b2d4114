//! Creating customers and invoices: single creates under an idempotency key (the API), and
//! batches (the batch endpoint, bulk imports) in a few statements per call.

mod customers;
mod insert_new;
mod invoices;
mod keys;
mod new_invoices;
mod row_lock;

pub(crate) use customers::{create_customer, update_customer, upsert_customers};
pub(crate) use invoices::{create_invoice, create_invoices};

/// Rows per multi-row statement: well under SQLite's 32,766 bind parameters at ten columns.
const ROWS_PER_STATEMENT: usize = 1_000;
