//! One settling write, in one transaction: the provider's event recorded first (a redelivery
//! finds it and changes nothing), the invoice changed only while it is still as it was read
//! (its status and claim fence: a claim or a void in between rolls the write back for a fresh
//! read), the attempt annotated, the event announced, the console's totals moved.

use antaeus_core::billing::OpenIntent;
use antaeus_core::store::{
    HandledEvent, InvoiceChange, PaymentWrite, PaymentWriteOutcome, StoreError,
};
use antaeus_models::{Currency, InvoiceId, InvoiceStatus, Money};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use crate::billing::outbox_row;
use crate::error::{pool_unavailable, store_error};
use crate::pool::Pools;
use crate::rows::stored;
use crate::schema::{charge_attempts, invoices, outbox, provider_events};
use crate::stats::{StatsDelta, apply_stats};
use crate::time::to_db;

/// Records `event` (about `invoice`) as handled; `false` when it was before.
pub(super) fn note_event(
    pools: &Pools,
    event: &HandledEvent,
    invoice: Option<InvoiceId>,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    write_txn!(pools, |c| record_event(c, event, invoice, at))
}

/// Inserts the event's row; evaluates to whether it was new.
macro_rules! record_event_on {
    ($c:ident, $event:expr, $invoice:expr, $at:expr) => {{
        let event: &HandledEvent = $event;
        diesel::insert_into(provider_events::table)
            .values((
                provider_events::id.eq(&event.id),
                provider_events::event_type.eq(&event.kind),
                provider_events::invoice_id.eq($invoice.map(InvoiceId::get)),
                provider_events::outcome.eq(&event.outcome),
                provider_events::received_at.eq(to_db($at)),
            ))
            .on_conflict_do_nothing()
            .execute($c)
            .map(|n| n > 0)
    }};
}

fn record_event<C>(
    c: &mut C,
    event: &HandledEvent,
    invoice: Option<InvoiceId>,
    at: DateTime<Utc>,
) -> QueryResult<bool>
where
    C: RecordEvent,
{
    c.record_event(event, invoice, at)
}

/// The event insert, per backend (diesel's `on_conflict_do_nothing` is typed per backend).
trait RecordEvent {
    fn record_event(
        &mut self,
        event: &HandledEvent,
        invoice: Option<InvoiceId>,
        at: DateTime<Utc>,
    ) -> QueryResult<bool>;
}

impl RecordEvent for diesel::SqliteConnection {
    fn record_event(
        &mut self,
        event: &HandledEvent,
        invoice: Option<InvoiceId>,
        at: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let c = self;
        record_event_on!(c, event, invoice, at)
    }
}

impl RecordEvent for diesel::PgConnection {
    fn record_event(
        &mut self,
        event: &HandledEvent,
        invoice: Option<InvoiceId>,
        at: DateTime<Utc>,
    ) -> QueryResult<bool> {
        let c = self;
        record_event_on!(c, event, invoice, at)
    }
}

/// Applies `$w` on `$c`; evaluates to `QueryResult<PaymentWriteOutcome>`, with a fence that no
/// longer holds rolled back as `DieselError::RollbackTransaction`.
macro_rules! apply_write {
    ($c:ident, $w:expr) => {{
        let w: &PaymentWrite = $w;
        let id = w.invoice.get();
        if let Some(event) = &w.event
            && !$c.record_event(event, Some(w.invoice), w.at)?
        {
            return Ok(PaymentWriteOutcome::AlreadyHandled);
        }
        let fenced = || {
            invoices::table
                .find(id)
                .filter(invoices::status.eq(w.expected_status.as_str()))
                .filter(invoices::fence.eq(stored(w.expected_fence)))
        };
        let (amount_minor, currency): (i64, String) = invoices::table
            .find(id)
            .select((invoices::amount_minor, invoices::currency))
            .first($c)?;
        let currency: Currency = currency
            .parse()
            .map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
        let amount = Money::from_minor(amount_minor, currency)
            .map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
        let mut stats = StatsDelta::default();
        let updated = match &w.change {
            InvoiceChange::None => diesel::update(fenced())
                .set(invoices::fence.eq(invoices::fence))
                .execute($c)?,
            InvoiceChange::OpenIntent(open) => diesel::update(fenced())
                .set(invoices::open_intent.eq(open))
                .execute($c)?,
            InvoiceChange::ExtraCharge => diesel::update(fenced())
                .set(invoices::extra_charges.eq(invoices::extra_charges + 1))
                .execute($c)?,
            InvoiceChange::Dispute(d) => diesel::update(fenced())
                .set((
                    invoices::dispute_id.eq(&d.id),
                    invoices::dispute_status.eq(&d.status),
                    invoices::dispute_reason.eq(&d.reason),
                    invoices::dispute_amount_minor.eq(d.amount.to_minor()),
                    invoices::dispute_evidence_due_by.eq(d.evidence_due_by.map(to_db)),
                ))
                .execute($c)?,
            InvoiceChange::Move {
                transition: t,
                payment,
            } => {
                let seq = stored(t.state.key_seq);
                // A key the move leaves behind: the next is sent fresh.
                diesel::update(fenced().filter(invoices::key_seq.ne(seq)))
                    .set((
                        invoices::key_ns.eq(None::<String>),
                        invoices::key_sent_at.eq(None::<NaiveDateTime>),
                    ))
                    .execute($c)?;
                let moved = diesel::update(fenced())
                    .set((
                        invoices::status.eq(t.status.as_str()),
                        invoices::next_attempt_at.eq(t.next_attempt_at.map(to_db)),
                        invoices::failure_reason.eq(t.failure_reason.map(|r| r.as_str())),
                        invoices::key_seq.eq(seq),
                        invoices::declines.eq(stored(t.state.declines)),
                        invoices::unknown_streak.eq(stored(t.state.unknown_streak)),
                    ))
                    .execute($c)?;
                if moved > 0 {
                    let open = match t.open_intent {
                        OpenIntent::Keep => None,
                        OpenIntent::Clear => Some(None),
                        OpenIntent::FromCall | OpenIntent::FromCallOrKeep => {
                            Some(Some(payment.clone()))
                        }
                    };
                    if let Some(open) = open {
                        diesel::update(invoices::table.find(id))
                            .set(invoices::open_intent.eq(open))
                            .execute($c)?;
                    }
                    if t.status == InvoiceStatus::Paid {
                        diesel::update(invoices::table.find(id))
                            .set(invoices::payment_ref.eq(payment))
                            .execute($c)?;
                        stats.collected(w.at, amount);
                    }
                    if let (InvoiceStatus::Failed, Some(reason)) = (t.status, t.failure_reason) {
                        stats.failed(w.at, reason.as_str());
                    }
                    stats.moved(w.expected_status, t.status, amount);
                }
                moved
            }
        };
        if updated == 0 {
            // Changed since it was read: nothing of this write may stay.
            return Err(DieselError::RollbackTransaction);
        }
        if let Some(note) = &w.attempt {
            let latest: Option<i64> = charge_attempts::table
                .filter(charge_attempts::invoice_id.eq(id))
                .filter(charge_attempts::idempotency_key.eq(&note.key))
                .order(charge_attempts::attempt_number.desc())
                .select(charge_attempts::id)
                .first($c)
                .optional()?;
            if let Some(attempt) = latest {
                let target = charge_attempts::table.find(attempt);
                diesel::update(target)
                    .set((
                        charge_attempts::provider_ref.eq(&note.provider_ref),
                        charge_attempts::message.eq(&note.message),
                    ))
                    .execute($c)?;
                if let Some(outcome) = note.outcome {
                    diesel::update(target)
                        .set((
                            charge_attempts::outcome.eq(outcome.as_str()),
                            charge_attempts::finished_at.eq(to_db(w.at)),
                        ))
                        .execute($c)?;
                }
                if let Some(code) = &note.decline_code {
                    diesel::update(target)
                        .set(charge_attempts::decline_code.eq(code))
                        .execute($c)?;
                }
            }
        }
        if let Some(notification) = &w.notification {
            diesel::insert_into(outbox::table)
                .values(outbox_row(notification)?)
                .on_conflict_do_nothing()
                .execute($c)?;
        }
        apply_stats!($c, &stats)?;
        Ok(PaymentWriteOutcome::Applied)
    }};
}

/// Applies `write` (see `PaymentStore::write_payment`).
pub(super) fn write_payment(
    pools: &Pools,
    write: &PaymentWrite,
) -> Result<PaymentWriteOutcome, StoreError> {
    let result = match pools {
        Pools::Sqlite(pool) => {
            pool.immediate(|c| -> QueryResult<PaymentWriteOutcome> { apply_write!(c, write) })?
        }
        Pools::Postgres(pool) => {
            let mut pooled = pool.get().map_err(pool_unavailable)?;
            let conn: &mut diesel::PgConnection = &mut pooled;
            conn.transaction(|c| -> QueryResult<PaymentWriteOutcome> { apply_write!(c, write) })
        }
    };
    match result {
        Ok(outcome) => Ok(outcome),
        Err(DieselError::RollbackTransaction) => Ok(PaymentWriteOutcome::Conflict),
        Err(err) => Err(store_error(err)),
    }
}
