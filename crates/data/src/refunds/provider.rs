//! Refunds as the provider's events tell them: a refund Antaeus asked for settles (or fails
//! later), one made at the provider (its dashboard) is added, and the invoice's refunded amount
//! follows the provider's; the event is recorded in the same transaction, so a redelivery
//! changes nothing.

use antaeus_core::provider_events::ProviderRefund;
use antaeus_core::store::{HandledEvent, ProviderRefundNews, StoreError};
use antaeus_models::{InvoiceId, Money, Refund};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::finish::AnnounceRefund;
use super::rows::RefundRow;
use crate::pool::Pools;
use crate::schema::{invoices, provider_events, refunds};
use crate::time::to_db;

/// The provider reference of a refund known only from the provider's total (named once its own
/// event comes).
const TOLD_BY_TOTAL: &str = "total:";

/// Records `news` (see `RefundStore::record_provider_refund`).
pub(super) fn record_provider_refund(
    pools: &Pools,
    event: &HandledEvent,
    invoice: InvoiceId,
    news: &ProviderRefundNews,
    at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    write_txn!(pools, |c| {
        let new = diesel::insert_into(provider_events::table)
            .values((
                provider_events::id.eq(&event.id),
                provider_events::event_type.eq(&event.kind),
                provider_events::invoice_id.eq(invoice.get()),
                provider_events::outcome.eq(&event.outcome),
                provider_events::received_at.eq(to_db(at)),
            ))
            .on_conflict_do_nothing()
            .execute(c)?;
        if new == 0 {
            return Ok(false);
        }
        let id = invoice.get();
        let (refunded, currency): (i64, String) = invoices::table
            .find(id)
            .select((invoices::refunded_minor, invoices::currency))
            .first(c)?;
        let rows: Vec<RefundRow> = refunds::table
            .filter(refunds::invoice_id.eq(id))
            .order(refunds::id)
            .select(RefundRow::as_select())
            .load(c)?;
        let decode = |e: StoreError| DieselError::DeserializationError(Box::new(e));
        let to_refund = |row: RefundRow| Refund::try_from(row).map_err(decode);
        let now = to_db(at);
        match news {
            ProviderRefundNews::One(r) => {
                let ours = rows
                    .iter()
                    .find(|row| {
                        row.provider_ref.as_deref() == Some(r.id.as_str())
                            || r.antaeus_refund.is_some_and(|a| a.get() == row.id)
                    })
                    .or_else(|| {
                        // A refund made at the provider that its total already told of (its
                        // events come in any order): the same refund, now named.
                        rows.iter().find(|row| {
                            row.provider_ref
                                .as_deref()
                                .is_some_and(|p| p.starts_with(TOLD_BY_TOTAL))
                                && row.amount_minor == r.amount_minor
                                && row.status == "succeeded"
                        })
                    })
                    .cloned();
                match ours {
                    Some(row) => {
                        let was = row.status.clone();
                        let status = if r.succeeded { "succeeded" } else { "failed" };
                        if was == status {
                            if row.provider_ref.as_deref() != Some(r.id.as_str()) {
                                diesel::update(refunds::table.find(row.id))
                                    .set((
                                        refunds::provider_ref.eq(&r.id),
                                        refunds::updated_at.eq(now),
                                    ))
                                    .execute(c)?;
                            }
                            return Ok(true);
                        }
                        let updated: RefundRow = diesel::update(refunds::table.find(row.id))
                            .set((
                                refunds::status.eq(status),
                                refunds::provider_ref.eq(&r.id),
                                refunds::failure_reason.eq(&r.failure_reason),
                                refunds::next_attempt_at.eq(None::<NaiveDateTime>),
                                refunds::updated_at.eq(now),
                            ))
                            .returning(RefundRow::as_returning())
                            .get_result(c)?;
                        let refund = to_refund(updated)?;
                        if r.succeeded {
                            c.announce_refund(&refund, at)?;
                        } else if was == "succeeded" {
                            // It went through, then failed (a bank returned it): it is no
                            // longer refunded.
                            diesel::update(invoices::table.find(id))
                                .set(
                                    invoices::refunded_minor
                                        .eq((refunded - refund.amount.to_minor()).max(0)),
                                )
                                .execute(c)?;
                        }
                    }
                    None => {
                        let added = insert_provider_refund(c, id, &currency, r, now)?;
                        if r.succeeded {
                            c.announce_refund(&to_refund(added)?, at)?;
                        }
                    }
                }
            }
            ProviderRefundNews::Total(total) => {
                // What the provider refunded beyond what Antaeus knows of (succeeded, and
                // pending: a refund in flight here may already be in the provider's total).
                let known: i64 = rows
                    .iter()
                    .filter(|r| r.status != "failed")
                    .map(|r| r.amount_minor)
                    .sum::<i64>()
                    .max(refunded);
                if *total > known {
                    let made_there = ProviderRefund {
                        id: format!("{TOLD_BY_TOTAL}{}", event.id),
                        amount_minor: total - known,
                        succeeded: true,
                        failure_reason: None,
                        antaeus_refund: None,
                    };
                    let added = insert_provider_refund(c, id, &currency, &made_there, now)?;
                    c.announce_refund(&to_refund(added)?, at)?;
                }
            }
        }
        Ok(true)
    })
}

/// A refund made at the provider, as a row of its own.
fn insert_provider_refund<C>(
    c: &mut C,
    invoice: i64,
    currency: &str,
    r: &ProviderRefund,
    now: NaiveDateTime,
) -> QueryResult<RefundRow>
where
    C: InsertRefund,
{
    let amount = Money::from_minor(
        r.amount_minor.max(1),
        currency
            .parse()
            .map_err(|e| DieselError::DeserializationError(Box::new(e)))?,
    )
    .map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
    c.insert_refund(invoice, amount, r, now)
}

/// The insert, per backend.
trait InsertRefund {
    fn insert_refund(
        &mut self,
        invoice: i64,
        amount: Money,
        r: &ProviderRefund,
        now: NaiveDateTime,
    ) -> QueryResult<RefundRow>;
}

macro_rules! insert_on {
    ($conn:ty) => {
        impl InsertRefund for $conn {
            fn insert_refund(
                &mut self,
                invoice: i64,
                amount: Money,
                r: &ProviderRefund,
                now: NaiveDateTime,
            ) -> QueryResult<RefundRow> {
                diesel::insert_into(refunds::table)
                    .values((
                        refunds::invoice_id.eq(invoice),
                        refunds::amount_minor.eq(amount.to_minor()),
                        refunds::currency.eq(amount.currency().as_str()),
                        refunds::reason.eq("made at the payment provider"),
                        refunds::status.eq(if r.succeeded { "succeeded" } else { "failed" }),
                        refunds::origin.eq("provider"),
                        refunds::provider_key.eq(format!("provider-{}", r.id)),
                        refunds::provider_ref.eq(&r.id),
                        refunds::failure_reason.eq(&r.failure_reason),
                        refunds::attempts.eq(0),
                        refunds::created_at.eq(now),
                        refunds::updated_at.eq(now),
                    ))
                    .returning(RefundRow::as_returning())
                    .get_result(self)
            }
        }
    };
}

insert_on!(diesel::SqliteConnection);
insert_on!(diesel::PgConnection);
