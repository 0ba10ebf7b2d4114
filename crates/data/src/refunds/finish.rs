//! Recording the provider's answer to a refund: succeeded (the invoice's refunded amount
//! grows and `invoice.refunded` is announced, once), failed, or unknown (asked again later).

use antaeus_core::store::{RefundEnd, StoreError};
use antaeus_models::{
    EventData, EventKind, Invoice, InvoiceEvent, Notification, Refund, RefundEvent, RefundId,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::rows::RefundRow;
use crate::billing::outbox_row;
use crate::pool::Pools;
use crate::rows::InvoiceRow;
use crate::schema::{invoices, outbox, refunds};
use crate::time::to_db;

/// Records `end` for refund `id` (see `RefundStore::finish_refund`).
pub(super) fn finish_refund(
    pools: &Pools,
    id: RefundId,
    end: &RefundEnd,
    at: DateTime<Utc>,
) -> Result<Refund, StoreError> {
    write_txn!(pools, |c| {
        let pending = refunds::table
            .find(id.get())
            .filter(refunds::status.eq("pending"));
        let now = to_db(at);
        let changed = match end {
            RefundEnd::Succeeded { refund_ref } => diesel::update(pending)
                .set((
                    refunds::status.eq("succeeded"),
                    refunds::provider_ref.eq(refund_ref),
                    refunds::failure_reason.eq(None::<String>),
                    refunds::next_attempt_at.eq(None::<NaiveDateTime>),
                    refunds::updated_at.eq(now),
                ))
                .execute(c)?,
            RefundEnd::Failed { reason } => diesel::update(pending)
                .set((
                    refunds::status.eq("failed"),
                    refunds::failure_reason.eq(reason),
                    refunds::next_attempt_at.eq(None::<NaiveDateTime>),
                    refunds::updated_at.eq(now),
                ))
                .execute(c)?,
            RefundEnd::Unknown { message, retry_at } => diesel::update(pending)
                .set((
                    refunds::failure_reason.eq(message),
                    refunds::next_attempt_at.eq(to_db(*retry_at)),
                    refunds::updated_at.eq(now),
                ))
                .execute(c)?,
        };
        let row: RefundRow = refunds::table
            .find(id.get())
            .select(RefundRow::as_select())
            .first(c)?;
        let refund =
            Refund::try_from(row).map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
        if changed > 0 && matches!(end, RefundEnd::Succeeded { .. }) {
            c.announce_refund(&refund, at)?;
        }
        Ok(refund)
    })
}

/// Adds a refund that succeeded to its invoice's refunded amount and announces it
/// (`invoice.refunded`, once per refund), per backend.
pub(crate) trait AnnounceRefund {
    /// See the trait.
    fn announce_refund(&mut self, refund: &Refund, at: DateTime<Utc>) -> QueryResult<()>;
}

macro_rules! announce_on {
    ($conn:ty) => {
        impl AnnounceRefund for $conn {
            fn announce_refund(&mut self, refund: &Refund, at: DateTime<Utc>) -> QueryResult<()> {
                let id = refund.invoice_id.get();
                let row: InvoiceRow = diesel::update(invoices::table.find(id))
                    .set(
                        invoices::refunded_minor
                            .eq(invoices::refunded_minor + refund.amount.to_minor()),
                    )
                    .returning(InvoiceRow::as_returning())
                    .get_result(self)?;
                let invoice = Invoice::try_from(row)
                    .map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
                let event = refunded_event(&invoice, refund, at);
                diesel::insert_into(outbox::table)
                    .values(outbox_row(&event)?)
                    .on_conflict_do_nothing()
                    .execute(self)?;
                Ok(())
            }
        }
    };
}

announce_on!(diesel::SqliteConnection);
announce_on!(diesel::PgConnection);

/// `invoice.refunded`, once per refund.
fn refunded_event(invoice: &Invoice, refund: &Refund, at: DateTime<Utc>) -> Notification {
    let mut data = InvoiceEvent::of(invoice, None, None);
    data.refunded_amount = Some(invoice.refunded.value());
    data.charge_id = None;
    data.refund = Some(RefundEvent {
        id: refund.id.get(),
        amount: refund.amount.value(),
        reason: refund.reason.clone(),
        origin: refund.origin,
        provider_ref: refund.provider_ref.clone(),
    });
    Notification {
        id: format!("evt_refund_{}_succeeded", refund.id),
        kind: EventKind::Refunded,
        created_at: at,
        data: EventData {
            invoice: Some(data),
            run: None,
        },
    }
}
