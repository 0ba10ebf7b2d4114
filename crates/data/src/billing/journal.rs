//! Applying a batch of billing journal entries in one transaction, fenced per entry.

use std::collections::BTreeMap;

use antaeus_core::billing::RunResult;
use antaeus_core::store::{AttemptCompletion, AttemptEnd, JournalEntry, RecordReport, StoreError};
use antaeus_models::{InstanceId, InvoiceId, Notification, RunCounts};
use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::rows::{NewAttemptRow, NewOutboxRow};
use crate::error::{pool_unavailable, store_error};
use crate::pool::Pools;
use crate::rows::stored;
use crate::schema::{billing_runs, charge_attempts, invoices, outbox};
use crate::time::to_db;

/// The invoice row of `$invoice`, only while `$owner` holds its claim at attempt count `$fence`.
macro_rules! fenced {
    ($invoice:expr, $owner:expr, $fence:expr) => {
        invoices::table
            .filter(invoices::id.eq($invoice.get()))
            .filter(invoices::status.eq("CHARGING"))
            .filter(invoices::claimed_by.eq($owner))
            .filter(invoices::attempts.eq(stored($fence)))
    };
}

/// Records how a call ended. A call's outcome is recorded even when the claim was lost, and
/// replaces "abandoned" if a takeover got there first: the log keeps what really happened.
macro_rules! complete_attempt {
    ($c:ident, $invoice:expr, $done:expr) => {{
        let done: &AttemptCompletion = $done;
        diesel::update(
            charge_attempts::table
                .filter(charge_attempts::invoice_id.eq($invoice.get()))
                .filter(charge_attempts::attempt_number.eq(stored(done.number)))
                .filter(
                    charge_attempts::outcome
                        .is_null()
                        .or(charge_attempts::outcome.eq("abandoned")),
                ),
        )
        .set((
            charge_attempts::outcome.eq(done.outcome.as_str()),
            charge_attempts::message.eq(done.message.as_deref()),
            charge_attempts::finished_at.eq(to_db(done.finished_at)),
        ))
        .execute($c)?;
    }};
}

/// Applies every entry; evaluates to `QueryResult<(fenced-out invoices, run counters)>`.
macro_rules! apply_batch {
    ($c:ident, $owner:expr, $batch:expr) => {{
        let owner: &str = $owner;
        let mut fenced_out = Vec::new();
        let mut counts: BTreeMap<i64, RunCounts> = BTreeMap::new();
        for entry in $batch {
            match entry {
                JournalEntry::Resend {
                    invoice,
                    run,
                    fence,
                    completed,
                    key,
                    started_at,
                } => {
                    let owned = diesel::update(fenced!(invoice, owner, *fence))
                        .set(invoices::attempts.eq(stored(fence + 1)))
                        .execute($c)?
                        == 1;
                    complete_attempt!($c, invoice, completed);
                    // A replay of a resend already applied (its commit was acknowledged to
                    // nobody) finds the claim one attempt further, still ours: nothing to do.
                    let replayed = !owned
                        && diesel::select(diesel::dsl::exists(fenced!(invoice, owner, fence + 1)))
                            .get_result::<bool>($c)?;
                    if replayed {
                        continue;
                    }
                    if owned {
                        diesel::insert_into(charge_attempts::table)
                            .values(NewAttemptRow {
                                invoice_id: invoice.get(),
                                run_id: Some(run.get()),
                                attempt_number: stored(fence + 1),
                                idempotency_key: key.to_string(),
                                instance_id: owner.to_owned(),
                                started_at: to_db(*started_at),
                            })
                            .execute($c)?;
                    } else {
                        fenced_out.push(*invoice);
                    }
                }
                JournalEntry::Finish {
                    invoice,
                    run,
                    fence,
                    attempt,
                    transition,
                    notification,
                } => {
                    let attempts_after = match attempt {
                        AttemptEnd::Unsent(_) => fence.saturating_sub(1),
                        _ => *fence,
                    };
                    let owned = diesel::update(fenced!(invoice, owner, *fence))
                        .set((
                            invoices::status.eq(transition.status.as_str()),
                            invoices::next_attempt_at.eq(transition.next_attempt_at.map(to_db)),
                            invoices::failure_reason
                                .eq(transition.failure_reason.map(|r| r.as_str())),
                            invoices::key_seq.eq(stored(transition.state.key_seq)),
                            invoices::declines.eq(stored(transition.state.declines)),
                            invoices::unknown_streak.eq(stored(transition.state.unknown_streak)),
                            invoices::attempts.eq(stored(attempts_after)),
                            invoices::claimed_by.eq(None::<String>),
                            invoices::claimed_at.eq(None::<NaiveDateTime>),
                        ))
                        .execute($c)?
                        == 1;
                    match attempt {
                        AttemptEnd::Completed(done) => complete_attempt!($c, invoice, done),
                        AttemptEnd::Unsent(number) if owned => {
                            diesel::delete(
                                charge_attempts::table
                                    .filter(charge_attempts::invoice_id.eq(invoice.get()))
                                    .filter(charge_attempts::attempt_number.eq(stored(*number)))
                                    .filter(charge_attempts::outcome.is_null()),
                            )
                            .execute($c)?;
                        }
                        AttemptEnd::Unsent(_) | AttemptEnd::None => {}
                    }
                    if owned {
                        if let Some(event) = notification {
                            diesel::insert_into(outbox::table)
                                .values(outbox_row(event)?)
                                .on_conflict(outbox::event_id)
                                .do_nothing()
                                .execute($c)?;
                        }
                        count_result(counts.entry(run.get()).or_default(), transition.result);
                    } else {
                        fenced_out.push(*invoice);
                    }
                }
            }
        }
        for (run, delta) in &counts {
            diesel::update(billing_runs::table.find(*run))
                .set((
                    billing_runs::paid.eq(billing_runs::paid + delta.paid as i64),
                    billing_runs::declined.eq(billing_runs::declined + delta.declined as i64),
                    billing_runs::failed.eq(billing_runs::failed + delta.failed as i64),
                    billing_runs::retry_scheduled
                        .eq(billing_runs::retry_scheduled + delta.retry_scheduled as i64),
                    billing_runs::released.eq(billing_runs::released + delta.released as i64),
                ))
                .execute($c)?;
        }
        Ok(fenced_out)
    }};
}

/// Applies `batch` for `instance` (see `BillingStore::record`).
pub(crate) fn record(
    pools: &Pools,
    instance: &InstanceId,
    batch: &[JournalEntry],
) -> Result<RecordReport, StoreError> {
    let owner = instance.as_str();
    let fenced_out = match pools {
        Pools::Sqlite(pool) => {
            let mut conn = pool.get().map_err(pool_unavailable)?;
            conn.immediate_transaction(|c| -> QueryResult<Vec<InvoiceId>> {
                apply_batch!(c, owner, batch)
            })
        }
        Pools::Postgres(pool) => {
            let mut conn = pool.get().map_err(pool_unavailable)?;
            conn.transaction(|c| -> QueryResult<Vec<InvoiceId>> { apply_batch!(c, owner, batch) })
        }
    }
    .map_err(store_error)?;
    Ok(RecordReport { fenced_out })
}

fn count_result(counts: &mut RunCounts, result: RunResult) {
    match result {
        RunResult::Paid => counts.paid += 1,
        RunResult::Declined => counts.declined += 1,
        RunResult::Failed => counts.failed += 1,
        RunResult::RetryScheduled => counts.retry_scheduled += 1,
        RunResult::Released => counts.released += 1,
    }
}

/// The outbox row of an event.
pub(crate) fn outbox_row(event: &Notification) -> QueryResult<NewOutboxRow> {
    let payload = serde_json::to_string(event)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    Ok(NewOutboxRow {
        event_id: event.id.clone(),
        event_type: event.kind.as_str().to_owned(),
        payload,
        created_at: to_db(event.created_at),
        available_at: to_db(event.created_at),
    })
}
