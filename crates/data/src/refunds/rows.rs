//! The `refunds` rows and their conversion into domain values.

use antaeus_core::store::StoreError;
use antaeus_models::{InvoiceId, Money, Refund, RefundId};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::store_error;
use crate::pool::Pools;
use crate::rows::{corrupt, count, text};
use crate::schema::refunds;
use crate::time::from_db;

/// A `refunds` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refunds, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct RefundRow {
    pub id: i64,
    pub invoice_id: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub status: String,
    pub origin: String,
    pub request_fingerprint: Option<String>,
    pub provider_key: String,
    pub provider_ref: Option<String>,
    pub failure_reason: Option<String>,
    pub attempts: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl TryFrom<RefundRow> for Refund {
    type Error = StoreError;

    fn try_from(row: RefundRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let parse = || -> Result<Refund, String> {
            Ok(Refund {
                id: RefundId::new(row.id).map_err(text)?,
                invoice_id: InvoiceId::new(row.invoice_id).map_err(text)?,
                amount: Money::from_minor(row.amount_minor, row.currency.parse().map_err(text)?)
                    .map_err(text)?,
                reason: row.reason,
                status: row.status.parse().map_err(text)?,
                origin: row.origin.parse().map_err(text)?,
                provider_key: row.provider_key,
                provider_ref: row.provider_ref,
                failure_reason: row.failure_reason,
                attempts: count(row.attempts)?,
                created_at: from_db(row.created_at),
                updated_at: from_db(row.updated_at),
            })
        };
        parse().map_err(|e| corrupt("refunds", id, e))
    }
}

/// The refunds of `invoice`, oldest first.
pub(super) fn list(pools: &Pools, invoice: InvoiceId) -> Result<Vec<Refund>, StoreError> {
    with_conn!(pools, |c| {
        refunds::table
            .filter(refunds::invoice_id.eq(invoice.get()))
            .order(refunds::id)
            .select(RefundRow::as_select())
            .load(c)
            .map_err(store_error)?
            .into_iter()
            .map(Refund::try_from)
            .collect()
    })
}
