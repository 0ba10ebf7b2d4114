//! Reading invoices as settling sees them.

use antaeus_core::billing::ChargeState;
use antaeus_core::store::{PaymentView, StoreError};
use antaeus_models::{Invoice, InvoiceId};
use diesel::prelude::*;

use crate::error::store_error;
use crate::pool::Pools;
use crate::rows::{InvoiceRow, corrupt, count, text};
use crate::schema::{charge_attempts, invoices};

/// What settling reads beside the invoice.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = invoices, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct PaymentCols {
    key_seq: i32,
    declines: i32,
    unknown_streak: i32,
    fence: i32,
    key_ns: Option<String>,
    open_intent: Option<String>,
    payment_ref: Option<String>,
}

/// The invoice `id` as settling sees it.
pub(super) fn payment_view(
    pools: &Pools,
    id: InvoiceId,
) -> Result<Option<PaymentView>, StoreError> {
    with_conn!(pools, |c| {
        let row: Option<(InvoiceRow, PaymentCols)> = invoices::table
            .find(id.get())
            .select((InvoiceRow::as_select(), PaymentCols::as_select()))
            .first(c)
            .optional()
            .map_err(store_error)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let keys: Vec<(String, Option<String>)> = charge_attempts::table
            .filter(charge_attempts::invoice_id.eq(id.get()))
            .order(charge_attempts::attempt_number)
            .select((
                charge_attempts::idempotency_key,
                charge_attempts::provider_ref,
            ))
            .load(c)
            .map_err(store_error)?;
        view(row, keys).map(Some)
    })
}

/// Invoices with a payment that may still complete and no claim, after `after`.
pub(super) fn open_payments(
    pools: &Pools,
    after: Option<InvoiceId>,
    limit: u32,
) -> Result<Vec<PaymentView>, StoreError> {
    with_conn!(pools, |c| {
        let rows: Vec<(InvoiceRow, PaymentCols)> = invoices::table
            .filter(invoices::open_intent.is_not_null())
            .filter(invoices::id.gt(after.map_or(0, InvoiceId::get)))
            .filter(invoices::status.ne("CHARGING"))
            .order(invoices::id)
            .limit(i64::from(limit))
            .select((InvoiceRow::as_select(), PaymentCols::as_select()))
            .load(c)
            .map_err(store_error)?;
        let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
        let calls: Vec<(i64, String, Option<String>)> = charge_attempts::table
            .filter(charge_attempts::invoice_id.eq_any(&ids))
            .order((charge_attempts::invoice_id, charge_attempts::attempt_number))
            .select((
                charge_attempts::invoice_id,
                charge_attempts::idempotency_key,
                charge_attempts::provider_ref,
            ))
            .load(c)
            .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                let id = row.0.id;
                let keys = calls
                    .iter()
                    .filter(|(i, _, _)| *i == id)
                    .map(|(_, k, r)| (k.clone(), r.clone()))
                    .collect();
                view(row, keys)
            })
            .collect()
    })
}

/// The invoice whose payment, or payment that may still complete, is `reference`.
pub(super) fn invoice_of_payment(
    pools: &Pools,
    reference: &str,
) -> Result<Option<InvoiceId>, StoreError> {
    with_conn!(pools, |c| {
        let paid: Option<i64> = invoices::table
            .filter(invoices::payment_ref.eq(reference))
            .select(invoices::id)
            .first(c)
            .optional()
            .map_err(store_error)?;
        let found = match paid {
            Some(id) => Some(id),
            None => invoices::table
                .filter(invoices::open_intent.eq(reference))
                .select(invoices::id)
                .first(c)
                .optional()
                .map_err(store_error)?,
        };
        found
            .map(|id| InvoiceId::new(id).map_err(|e| corrupt("invoices", id, text(e))))
            .transpose()
    })
}

/// The view of one row and the calls made for it: each key once, in the order first sent,
/// with the provider's reference its latest call learnt.
fn view(
    (row, cols): (InvoiceRow, PaymentCols),
    calls: Vec<(String, Option<String>)>,
) -> Result<PaymentView, StoreError> {
    let id = row.id;
    let bad = |e: String| corrupt("invoices", id, e);
    let mut keys: Vec<(String, Option<String>)> = Vec::new();
    for (key, reference) in calls {
        match keys.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => {
                if reference.is_some() {
                    entry.1 = reference;
                }
            }
            None => keys.push((key, reference)),
        }
    }
    Ok(PaymentView {
        invoice: Invoice::try_from(row)?,
        state: ChargeState {
            key_seq: count(cols.key_seq).map_err(bad)?,
            declines: count(cols.declines).map_err(bad)?,
            unknown_streak: count(cols.unknown_streak).map_err(bad)?,
        },
        fence: count(cols.fence).map_err(bad)?,
        key_namespace: cols.key_ns,
        open_intent: cols.open_intent,
        payment_ref: cols.payment_ref,
        keys,
    })
}
