//! Applying a batch of billing journal entries in one transaction, fenced per entry.

use std::collections::{BTreeMap, HashMap, HashSet};

use antaeus_core::billing::{OpenIntent, RunResult};
use antaeus_core::store::{AttemptCompletion, AttemptEnd, JournalEntry, RecordReport, StoreError};
use antaeus_models::{
    AttemptOutcome, InstanceId, InvoiceId, InvoiceStatus, Notification, RunCounts, RunId,
};
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::batch::{BatchWrites, CompletionRow, FinishRow};
use super::inserts::InsertAttempts;
use super::rows::{NewAttemptRow, NewOutboxRow};
use crate::error::{pool_unavailable, store_error};
use crate::pool::Pools;
use crate::rows::stored;
use crate::schema::{billing_runs, charge_attempts, invoices, outbox};
use crate::stats::{StatsDelta, apply_stats};
use crate::time::to_db;

/// The invoice row of `$invoice`, only while `$owner` holds its claim at fence `$fence`.
macro_rules! fenced {
    ($invoice:expr, $owner:expr, $fence:expr) => {
        invoices::table
            .filter(invoices::id.eq($invoice.get()))
            .filter(invoices::status.eq("CHARGING"))
            .filter(invoices::claimed_by.eq($owner))
            .filter(invoices::fence.eq(stored($fence)))
    };
}

/// Applies every entry with a few set-based statements; evaluates to
/// `QueryResult<Vec<InvoiceId>>` (the fenced-out invoices).
macro_rules! apply_batch {
    ($c:ident, $owner:expr, $batch:expr, $plan:expr) => {{
        let owner: &str = $owner;
        let batch: &[JournalEntry] = $batch;
        let plan: &Plan = $plan;
        // Resends first: move each claim to its next attempt, if still ours.
        let moved: HashSet<i64> = BatchWrites::advance_attempts($c, owner, &plan.resends)?
            .into_iter()
            .collect();
        let finished: HashSet<i64> = BatchWrites::finish_claims($c, owner, &plan.finishes)?
            .into_iter()
            .collect();
        // Every call's outcome is recorded, owned or not, over an "abandoned" guess: the log
        // keeps what really happened.
        let completed: HashSet<(i64, i32)> = BatchWrites::complete_attempts($c, &plan.completions)?
            .into_iter()
            .collect();
        let mut stats = plan.call_stats(&completed);

        let mut fenced_out = Vec::new();
        let mut intents = Vec::new();
        let mut events = Vec::new();
        let mut counts: BTreeMap<i64, RunCounts> = BTreeMap::new();
        for entry in batch {
            match entry {
                JournalEntry::Resend {
                    invoice,
                    run,
                    fence,
                    completed,
                    key,
                    started_at,
                } => {
                    if moved.contains(&invoice.get()) {
                        intents.push(NewAttemptRow {
                            invoice_id: invoice.get(),
                            run_id: Some(run.get()),
                            attempt_number: stored(completed.number + 1),
                            idempotency_key: key.to_string(),
                            instance_id: owner.to_owned(),
                            started_at: to_db(*started_at),
                            customer_ref: None,
                            payment_method_ref: None,
                        });
                    } else if !diesel::select(diesel::dsl::exists(fenced!(
                        invoice,
                        owner,
                        fence + 1
                    )))
                    .get_result::<bool>($c)?
                    {
                        // Not a replay of a resend already applied (only this resend moves the
                        // fence to `fence + 1` for this owner, as fences never repeat): the
                        // claim is someone else's, or ended.
                        fenced_out.push(*invoice);
                    }
                }
                JournalEntry::Finish {
                    invoice,
                    run,
                    attempt,
                    transition,
                    notification,
                    amount,
                    at,
                    ..
                } => {
                    if !finished.contains(&invoice.get()) {
                        fenced_out.push(*invoice);
                        continue;
                    }
                    stats.moved(InvoiceStatus::Charging, transition.status, *amount);
                    match (transition.status, transition.failure_reason) {
                        (InvoiceStatus::Paid, _) => stats.collected(*at, *amount),
                        (InvoiceStatus::Failed, Some(reason)) => stats.failed(*at, reason.as_str()),
                        _ => {}
                    }
                    if let AttemptEnd::Unsent(number) = attempt {
                        diesel::delete(
                            charge_attempts::table
                                .filter(charge_attempts::invoice_id.eq(invoice.get()))
                                .filter(charge_attempts::attempt_number.eq(stored(*number)))
                                .filter(charge_attempts::outcome.is_null()),
                        )
                        .execute($c)?;
                    }
                    if notification.is_some()
                        && let Some(row) = plan.events.get(&invoice.get())
                    {
                        events.push(row);
                    }
                    count_result(counts.entry(run.get()).or_default(), transition.result);
                }
            }
        }
        InsertAttempts::insert_attempts($c, &intents)?;
        // Event ids name the invoice, attempt and instant, and a claim ends once: no conflict.
        // One statement per thousand rows (see `NewOutboxRow`); one JSON statement, as for
        // the intents, was slower: see `inserts.rs`.
        for chunk in events.chunks(1_000) {
            let rows: Vec<&NewOutboxRow> = chunk.to_vec();
            diesel::insert_into(outbox::table)
                .values(rows)
                .execute($c)?;
        }
        apply_stats!($c, &stats)?;
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

/// A batch sorted into the rows of the set-based statements, prepared before the transaction
/// so that the write lock is held for the writes alone.
struct Plan {
    resends: Vec<(i64, i32)>,
    finishes: Vec<FinishRow>,
    completions: Vec<CompletionRow>,
    /// Each completion's invoice and attempt, run, when it ended, how, and its decline code
    /// (for the totals).
    calls: Vec<Call>,
    /// Outbox rows of the events, by invoice (written only if the invoice's finish applies).
    events: HashMap<i64, NewOutboxRow>,
}

impl Plan {
    fn of(batch: &[JournalEntry]) -> Result<Self, StoreError> {
        let mut plan = Plan {
            resends: Vec::new(),
            finishes: Vec::new(),
            completions: Vec::with_capacity(batch.len()),
            calls: Vec::with_capacity(batch.len()),
            events: HashMap::new(),
        };
        let completion = |invoice: InvoiceId, done: &AttemptCompletion| CompletionRow {
            invoice_id: invoice.get(),
            attempt_number: stored(done.number),
            outcome: done.outcome.as_str(),
            message: done.message.clone(),
            decline_code: done.decline_code.clone(),
            provider_ref: done.provider_ref.clone(),
            finished_at: to_db(done.finished_at),
        };
        for entry in batch {
            match entry {
                JournalEntry::Resend {
                    invoice,
                    run,
                    fence,
                    completed,
                    ..
                } => {
                    plan.resends.push((invoice.get(), stored(*fence)));
                    plan.completions.push(completion(*invoice, completed));
                    plan.calls.push(call(*invoice, *run, completed));
                }
                JournalEntry::Finish {
                    invoice,
                    run,
                    fence,
                    attempts,
                    attempt,
                    transition,
                    notification,
                    ..
                } => {
                    if let Some(event) = notification {
                        plan.events
                            .insert(invoice.get(), outbox_row(event).map_err(store_error)?);
                    }
                    let call_ref = match attempt {
                        AttemptEnd::Completed(done) => {
                            plan.completions.push(completion(*invoice, done));
                            plan.calls.push(call(*invoice, *run, done));
                            done.provider_ref.clone()
                        }
                        _ => None,
                    };
                    let (keep_intent, open_intent) = match transition.open_intent {
                        OpenIntent::Keep => (true, None),
                        OpenIntent::Clear => (false, None),
                        OpenIntent::FromCall => (false, call_ref.clone()),
                        OpenIntent::FromCallOrKeep => (call_ref.is_none(), call_ref.clone()),
                    };
                    plan.finishes.push(FinishRow {
                        keep_intent,
                        open_intent,
                        payment_ref: call_ref.filter(|_| transition.status == InvoiceStatus::Paid),
                        id: invoice.get(),
                        fence: stored(*fence),
                        attempts_after: stored(*attempts),
                        status: transition.status.as_str(),
                        next_attempt_at: transition.next_attempt_at.map(to_db),
                        failure_reason: transition.failure_reason.map(|r| r.as_str()),
                        key_seq: stored(transition.state.key_seq),
                        declines: stored(transition.state.declines),
                        unknown_streak: stored(transition.state.unknown_streak),
                    });
                }
            }
        }
        Ok(plan)
    }

    /// The totals the batch's calls move: those `completed` now (whoever owns their claims:
    /// every call counts, once).
    fn call_stats(&self, completed: &HashSet<(i64, i32)>) -> StatsDelta {
        let mut stats = StatsDelta::default();
        for call in &self.calls {
            if !completed.contains(&call.attempt) {
                continue;
            }
            stats.call(call.run, call.at, call.outcome.as_str());
            if call.outcome == AttemptOutcome::Declined {
                stats.declined(call.at, call.decline_code.as_deref());
            }
        }
        stats
    }
}

/// A completed call, for the totals.
struct Call {
    attempt: (i64, i32),
    run: i64,
    at: DateTime<Utc>,
    outcome: AttemptOutcome,
    decline_code: Option<String>,
}

fn call(invoice: InvoiceId, run: RunId, done: &AttemptCompletion) -> Call {
    Call {
        attempt: (invoice.get(), stored(done.number)),
        run: run.get(),
        at: done.finished_at,
        outcome: done.outcome,
        decline_code: done.decline_code.clone(),
    }
}

/// Applies `batch` for `instance` (see `BillingStore::record`).
pub(crate) fn record(
    pools: &Pools,
    instance: &InstanceId,
    batch: &[JournalEntry],
) -> Result<RecordReport, StoreError> {
    let owner = instance.as_str();
    let plan = Plan::of(batch)?;
    let fenced_out = match pools {
        Pools::Sqlite(pool) => pool.immediate(|c| -> QueryResult<Vec<InvoiceId>> {
            apply_batch!(c, owner, batch, &plan)
        })?,
        Pools::Postgres(pool) => {
            let mut pooled = pool.get().map_err(pool_unavailable)?;
            let conn: &mut diesel::PgConnection = &mut pooled;
            conn.transaction(|c| -> QueryResult<Vec<InvoiceId>> {
                // The batch statements join an `unnest` of the batch with the tables. Statistics
                // lag behind a run (every claimed row looks rare), and a nested loop would then
                // re-read the whole batch for every row: quadratic. Hash joins stay linear. And
                // the rows are found through their keys (`id = ANY(batch)`), never by scanning
                // a table: without statistics for the attempt log, a thousand keys look like the
                // whole table, and a sequential scan of it per batch grows with every run.
                diesel::connection::SimpleConnection::batch_execute(
                    c,
                    "SET LOCAL enable_nestloop = off; SET LOCAL enable_seqscan = off",
                )?;
                apply_batch!(c, owner, batch, &plan)
            })
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
        invoice_id: event.data.invoice.as_ref().map(|i| i.id),
    })
}
