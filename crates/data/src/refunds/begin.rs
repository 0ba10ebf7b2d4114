//! Recording a refund before it is sent, and claiming refunds whose answer was lost.

use antaeus_core::store::{NewRefund, RefundStart, RefundToSend, StoreError};
use antaeus_models::{Invoice, InvoiceStatus, Money, Refund};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::SENDING_HOLD;
use super::rows::RefundRow;
use crate::pool::Pools;
use crate::rows::InvoiceRow;
use crate::schema::{invoices, refunds};
use crate::time::to_db;

/// A value a query closure turns into a store error.
fn decode(e: StoreError) -> DieselError {
    DieselError::DeserializationError(Box::new(e))
}

/// Records the refund `request` asks for, if it may be made (see `RefundStore::begin_refund`).
pub(super) fn begin_refund(
    pools: &Pools,
    request: &NewRefund,
    namespace: &str,
) -> Result<RefundStart, StoreError> {
    write_txn!(pools, |c| {
        let id = request.invoice.get();
        // Take the invoice's row lock first, so that concurrent refunds of it queue here and
        // each sees the others' reservations.
        let found = diesel::update(invoices::table.find(id))
            .set(invoices::refunded_minor.eq(invoices::refunded_minor))
            .execute(c)?;
        if found == 0 {
            return Ok(RefundStart::NotFound);
        }
        if let Some((key, fingerprint)) = &request.request {
            let before: Option<RefundRow> = refunds::table
                .filter(refunds::invoice_id.eq(id))
                .filter(refunds::request_key.eq(key.as_str()))
                .select(RefundRow::as_select())
                .first(c)
                .optional()?;
            if let Some(row) = before {
                if row.request_fingerprint.as_deref() != Some(fingerprint.as_str()) {
                    return Ok(RefundStart::KeyReused);
                }
                let refund = Refund::try_from(row).map_err(decode)?;
                return Ok(RefundStart::Replayed(Box::new(refund)));
            }
        }
        let (row, payment_ref): (InvoiceRow, Option<String>) = invoices::table
            .find(id)
            .select((InvoiceRow::as_select(), invoices::payment_ref))
            .first(c)?;
        let invoice = Invoice::try_from(row).map_err(decode)?;
        if invoice.status != InvoiceStatus::Paid {
            return Ok(RefundStart::NotPaid(invoice.status));
        }
        let Some(payment_ref) = payment_ref else {
            return Ok(RefundStart::NoPayment);
        };
        let currency = invoice.amount.currency();
        // Refunds still pending are reserved: what they may yet refund is not left.
        let pending: i64 = refunds::table
            .filter(refunds::invoice_id.eq(id))
            .filter(refunds::status.eq("pending"))
            .select(refunds::amount_minor)
            .load::<i64>(c)?
            .iter()
            .fold(0_i64, |a, b| a.saturating_add(*b));
        let pending = Money::from_minor(pending, currency)
            .map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
        let left = invoice.refundable().saturating_sub(pending);
        let asked = match request.amount {
            None => left,
            Some(value) => match Money::new(value, currency) {
                Ok(money) if money.to_minor() > 0 => money,
                Ok(_) => {
                    return Ok(RefundStart::Invalid(
                        "amount must be greater than zero".into(),
                    ));
                }
                Err(e) => return Ok(RefundStart::Invalid(format!("amount {value}: {e}"))),
            },
        };
        if asked.to_minor() == 0 || asked.to_minor() > left.to_minor() {
            return Ok(RefundStart::Exceeds { asked, left });
        }
        let made: i64 = refunds::table
            .filter(refunds::invoice_id.eq(id))
            .count()
            .get_result(c)?;
        let at = to_db(request.at);
        let row: RefundRow = diesel::insert_into(refunds::table)
            .values((
                refunds::invoice_id.eq(id),
                refunds::amount_minor.eq(asked.to_minor()),
                refunds::currency.eq(currency.as_str()),
                refunds::reason.eq(&request.reason),
                refunds::status.eq("pending"),
                refunds::origin.eq("api"),
                refunds::request_key.eq(request.request.as_ref().map(|(k, _)| k.as_str())),
                refunds::request_fingerprint.eq(request.request.as_ref().map(|(_, f)| f.as_str())),
                refunds::provider_key.eq(refund_key(namespace, id, made + 1)),
                refunds::attempts.eq(1),
                // Held while it is sent; due again should this process die first.
                refunds::next_attempt_at.eq(to_db(request.at + SENDING_HOLD)),
                refunds::created_at.eq(at),
                refunds::updated_at.eq(at),
            ))
            .returning(RefundRow::as_returning())
            .get_result(c)?;
        let refund = Refund::try_from(row).map_err(decode)?;
        Ok(RefundStart::Started(Box::new(RefundToSend {
            refund,
            invoice,
            payment_ref,
            namespace: namespace.to_owned(),
        })))
    })
}

/// The idempotency key of an invoice's `n`th refund: `antaeus-<deployment>-<invoice>-r<n>`.
fn refund_key(namespace: &str, invoice: i64, n: i64) -> String {
    format!("antaeus-{namespace}-{invoice}-r{n}")
}

/// The deployment a refund's key was made in (a resend sends the request it was first sent
/// with, whatever the deployment's id is now).
fn key_namespace(key: &str) -> Option<&str> {
    key.strip_prefix("antaeus-")?.split('-').next()
}

/// Claims up to `limit` pending refunds due at `now` to ask about again (held, and counted as
/// asked), with what sending them needs.
pub(super) fn claim_due(
    pools: &Pools,
    now: DateTime<Utc>,
    limit: u32,
    namespace: &str,
) -> Result<Vec<RefundToSend>, StoreError> {
    write_txn!(pools, |c| {
        let due: Vec<i64> = refunds::table
            .filter(refunds::status.eq("pending"))
            .filter(refunds::next_attempt_at.le(to_db(now)))
            .order((refunds::next_attempt_at, refunds::id))
            .limit(i64::from(limit))
            .select(refunds::id)
            .load(c)?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        // Only those still due when updated: on PostgreSQL, a concurrent claim of the same
        // refunds waits for this one and then finds them held.
        let due: Vec<i64> = diesel::update(
            refunds::table
                .filter(refunds::id.eq_any(&due))
                .filter(refunds::status.eq("pending"))
                .filter(refunds::next_attempt_at.le(to_db(now))),
        )
        .set((
            refunds::attempts.eq(refunds::attempts + 1),
            refunds::next_attempt_at.eq(to_db(now + SENDING_HOLD)),
        ))
        .returning(refunds::id)
        .get_results(c)?;
        let rows: Vec<(RefundRow, InvoiceRow, Option<String>)> = refunds::table
            .inner_join(invoices::table)
            .filter(refunds::id.eq_any(&due))
            .select((
                RefundRow::as_select(),
                InvoiceRow::as_select(),
                invoices::payment_ref,
            ))
            .load(c)?;
        rows.into_iter()
            .filter_map(|(refund, invoice, payment_ref)| {
                let payment_ref = payment_ref?;
                let made_in = key_namespace(&refund.provider_key)
                    .unwrap_or(namespace)
                    .to_owned();
                Some((|| -> Result<RefundToSend, StoreError> {
                    Ok(RefundToSend {
                        refund: Refund::try_from(refund)?,
                        invoice: Invoice::try_from(invoice)?,
                        payment_ref,
                        namespace: made_in,
                    })
                })())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(decode)
    })
}
