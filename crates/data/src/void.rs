//! Voiding an invoice: one conditional update and its `invoice.voided` event, in one
//! transaction.

use antaeus_core::billing::charge_key;
use antaeus_core::store::{StoreError, VoidOutcome};
use antaeus_models::{
    EventData, EventKind, Invoice, InvoiceEvent, InvoiceId, InvoiceStatus, Notification,
};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::billing::outbox_row;
use crate::rows::InvoiceRow;
use crate::schema::{invoices, outbox};
use crate::stats::{StatsDelta, apply_stats};

/// Voids invoice `id` at `now` (see `InvoiceStore::void_invoice`).
pub(crate) async fn void_invoice(
    db: &Database,
    id: InvoiceId,
    now: DateTime<Utc>,
) -> Result<VoidOutcome, StoreError> {
    let (row, voided) = db
        .run(move |pools| {
            write_txn!(pools, |c| {
                // The status condition is the whole race with a claim: PostgreSQL's row lock
                // (or SQLite's single writer) orders this update and the claim's, and whichever
                // comes second finds the status the first one left.
                let parse = |row: InvoiceRow| {
                    Invoice::try_from(row)
                        .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
                };
                for from in [InvoiceStatus::Pending, InvoiceStatus::Failed] {
                    // Never while the invoice may have been charged: its last charge's outcome
                    // unknown, or a payment of it that may still complete.
                    let voided = diesel::update(
                        invoices::table
                            .find(id.get())
                            .filter(invoices::status.eq(from.as_str()))
                            .filter(invoices::unknown_streak.eq(0))
                            .filter(invoices::open_intent.is_null()),
                    )
                    .set((
                        invoices::status.eq("VOID"),
                        invoices::next_attempt_at.eq(None::<NaiveDateTime>),
                        invoices::failure_reason.eq(None::<String>),
                    ))
                    .returning(InvoiceRow::as_returning())
                    .get_result(c)
                    .optional()?;
                    if let Some(row) = voided {
                        let invoice = parse(row)?;
                        diesel::insert_into(outbox::table)
                            .values(outbox_row(&voided_event(&invoice, now))?)
                            .on_conflict_do_nothing()
                            .execute(c)?;
                        let mut stats = StatsDelta::default();
                        stats.moved(from, InvoiceStatus::Void, invoice.amount);
                        apply_stats!(c, &stats)?;
                        return Ok((Some((invoice, None)), true));
                    }
                }
                let row = invoices::table
                    .find(id.get())
                    .select((InvoiceRow::as_select(), Unsettled::as_select()))
                    .first(c)
                    .optional()?;
                Ok((
                    row.map(|(row, unsettled)| parse(row).map(|i| (i, Some(unsettled))))
                        .transpose()?,
                    false,
                ))
            })
        })
        .await?;
    let Some((invoice, unsettled)) = row else {
        return Ok(VoidOutcome::NotFound);
    };
    Ok(match (invoice.status, voided) {
        (_, true) => VoidOutcome::Voided(invoice),
        (InvoiceStatus::Void, _) => VoidOutcome::AlreadyVoid(invoice),
        (InvoiceStatus::Paid, _) => VoidOutcome::Paid,
        (InvoiceStatus::Charging, _) => VoidOutcome::Charging,
        _ => match unsettled {
            Some(Unsettled {
                open_intent: Some(reference),
                ..
            }) => VoidOutcome::PaymentMayComplete { reference },
            Some(Unsettled {
                key_ns, key_seq, ..
            }) => VoidOutcome::OutcomeUnknown {
                key: charge_key(
                    key_ns.as_deref().unwrap_or_default(),
                    invoice.id,
                    u32::try_from(key_seq).unwrap_or_default(),
                )
                .to_string(),
                retry_at: invoice.next_attempt_at,
            },
            // Changed between the update and the read (claimed meanwhile).
            None => VoidOutcome::Charging,
        },
    })
}

/// What keeps an unpaid invoice from being voided: the key whose outcome is unknown, or a
/// payment that may still complete.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = invoices, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct Unsettled {
    key_ns: Option<String>,
    key_seq: i32,
    open_intent: Option<String>,
}

/// `invoice.voided`, once per invoice (an invoice is voided once).
fn voided_event(invoice: &Invoice, now: DateTime<Utc>) -> Notification {
    Notification {
        id: format!("evt_{}_voided", invoice.id),
        kind: EventKind::Voided,
        created_at: now,
        data: EventData {
            invoice: Some(InvoiceEvent::of(invoice, None, None)),
            run: None,
        },
    }
}
