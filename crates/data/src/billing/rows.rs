//! Rows the billing engine reads and writes.

use chrono::NaiveDateTime;
use diesel::{Insertable, Queryable, Selectable};

use crate::rows::InvoiceRow;
use crate::schema::{charge_attempts, invoices, outbox};

/// An invoice with its billing counters, as a claim reads it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = invoices, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct ClaimRow {
    #[diesel(embed)]
    pub invoice: InvoiceRow,
    pub key_seq: i32,
    pub declines: i32,
    pub unknown_streak: i32,
    pub claimed_by: Option<String>,
    pub fence: i32,
    pub key_ns: Option<String>,
    pub key_sent_at: Option<NaiveDateTime>,
    pub open_intent: Option<String>,
}

/// The intent row of a provider call.
#[derive(Debug, Insertable)]
#[diesel(table_name = charge_attempts)]
pub(crate) struct NewAttemptRow {
    pub invoice_id: i64,
    pub run_id: Option<i64>,
    pub attempt_number: i32,
    pub idempotency_key: String,
    pub instance_id: String,
    pub started_at: NaiveDateTime,
    /// The customer's references as this first call under its key sends them (`None` on
    /// resends: the first call's are the key's).
    pub customer_ref: Option<String>,
    pub payment_method_ref: Option<String>,
}

/// An event for the outbox. `None` is written as NULL (the columns' default), not as
/// `DEFAULT`: SQLite has no `DEFAULT` in a `VALUES` list, and diesel inserts rows that may hold
/// one a statement at a time, where a journal batch's events now go in one statement.
#[derive(Debug, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub(crate) struct NewOutboxRow {
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub created_at: NaiveDateTime,
    pub available_at: NaiveDateTime,
    /// The invoice the event is about, if it is about one.
    pub invoice_id: Option<i64>,
}
