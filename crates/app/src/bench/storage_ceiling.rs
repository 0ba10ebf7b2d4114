//! The storage ceiling: the engine's claim, intent and outcome writes (`invoice.paid` events
//! included) with no provider, as
//! fast as the store completes them; and the same writes by hand, the yardstick it is
//! compared with.

use std::time::{Duration, Instant};

use antaeus_core::billing::{ChargeEvent, ChargeState, RetryPolicy, transition, transition_event};
use antaeus_core::store::{
    AttemptCompletion, AttemptEnd, BillingStore, ClaimRequest, ClaimedInvoice, InstanceStore,
    JournalEntry, NewRun, RunStore,
};
use antaeus_data::Database;
use antaeus_models::{AttemptOutcome, IdempotencyKey, InstanceId, RunId, RunScope, RunTrigger};
use anyhow::{Context, bail};
use chrono::TimeDelta;

/// The store alone, as fast as it goes: a claimer claims batches of 1,000 (intents included)
/// while a recorder records the previous batch as charged, the two overlapping as the engine's
/// claimer and journal writer do, until nothing is due. Returns the seconds it took.
pub(super) async fn storage_ceiling(db: &Database) -> anyhow::Result<f64> {
    let worker = InstanceId::parse(format!("bench-storage-{}", std::process::id()))?;
    let now = chrono::Utc::now();
    let (run, _) = db
        .create_run(&NewRun {
            idempotency_key: IdempotencyKey::parse("bench-storage")?,
            trigger: RunTrigger::Cli,
            instance: worker.clone(),
            now,
            request_fingerprint: "bench".into(),
            scope: RunScope::All,
        })
        .await?;
    db.heartbeat(&worker).await?;
    let started = Instant::now();
    let (batches, mut claimed_rx) = tokio::sync::mpsc::channel::<Vec<ClaimedInvoice>>(2);
    let claimer = tokio::spawn(claim_until_drained(
        db.clone(),
        worker.clone(),
        run.id,
        batches,
    ));
    let mut recording = Duration::ZERO;
    while let Some(claimed) = claimed_rx.recv().await {
        let t = Instant::now();
        let report = db.record(&worker, &charged(&claimed, run.id)).await?;
        if !report.fenced_out.is_empty() {
            bail!(
                "{} outcomes fenced out in a single-worker loop",
                report.fenced_out.len()
            );
        }
        recording += t.elapsed();
    }
    let claiming = claimer.await.context("the claimer panicked")??;
    log::debug!("storage loop: claiming {claiming:?}, recording {recording:?}");
    Ok(started.elapsed().as_secs_f64())
}

/// The same writes by hand (`Database::bill_by_hand`): plain batched SQL on the schema from one
/// connection, batches of 1,000 claimed then recorded as charged, until nothing is due. Returns
/// the seconds it took.
pub(super) async fn by_hand(db: &Database) -> anyhow::Result<f64> {
    let worker = format!("bench-by-hand-{}", std::process::id());
    let (run, _) = db
        .create_run(&NewRun {
            idempotency_key: IdempotencyKey::parse("bench-by-hand")?,
            trigger: RunTrigger::Cli,
            instance: InstanceId::parse(worker.clone())?,
            now: chrono::Utc::now(),
            request_fingerprint: "bench".into(),
            scope: RunScope::All,
        })
        .await?;
    let started = Instant::now();
    let billed = db.bill_by_hand(run.id, &worker, 1_000).await?;
    log::debug!("by hand: {billed} invoices billed");
    Ok(started.elapsed().as_secs_f64())
}

/// Claims as the engine does, from a cursor over never-tried invoices, looking for stale claims
/// at the start and once more (from the beginning) before giving up; sends each batch on.
/// Returns the time spent claiming.
async fn claim_until_drained(
    db: Database,
    worker: InstanceId,
    run: RunId,
    batches: tokio::sync::mpsc::Sender<Vec<ClaimedInvoice>>,
) -> anyhow::Result<Duration> {
    let mut claiming = Duration::ZERO;
    let mut fresh_after = None;
    let mut look_everywhere = true;
    loop {
        let t = Instant::now();
        let claimed = db
            .claim(&ClaimRequest {
                instance: worker.clone(),
                run,
                now: chrono::Utc::now(),
                limit: 1_000,
                lease_timeout: TimeDelta::seconds(30),
                fresh_after: if look_everywhere { None } else { fresh_after },
                include_stale: look_everywhere,
                scope: RunScope::All,
                require_customer_ref: false,
            })
            .await?;
        claiming += t.elapsed();
        if claimed.is_empty() {
            if look_everywhere {
                return Ok(claiming);
            }
            look_everywhere = true;
            continue;
        }
        look_everywhere = false;
        fresh_after = fresh_after.max(claimed.iter().map(|c| c.invoice.id).max());
        if batches.send(claimed).await.is_err() {
            // The recorder stopped on an error, which it reports.
            return Ok(claiming);
        }
    }
}

/// The journal entries that record every claimed invoice as charged.
fn charged(claimed: &[ClaimedInvoice], run: RunId) -> Vec<JournalEntry> {
    let now = chrono::Utc::now();
    claimed
        .iter()
        .map(|c| {
            let outcome = AttemptOutcome::Charged;
            let transition = transition(
                ChargeState::default(),
                None,
                ChargeEvent::Called(outcome),
                &RetryPolicy::default(),
                now,
            );
            let end = match &c.attempt {
                Some(a) => AttemptEnd::Completed(AttemptCompletion {
                    number: a.number,
                    outcome,
                    message: None,
                    decline_code: None,
                    provider_ref: None,
                    finished_at: now,
                }),
                None => AttemptEnd::None,
            };
            JournalEntry::Finish {
                invoice: c.invoice.id,
                run,
                fence: c.fence(),
                attempts: c.invoice.attempts,
                amount: c.invoice.amount,
                at: now,
                notification: transition_event(c, c.invoice.attempts, &transition, &end, run, now),
                attempt: end,
                transition,
            }
        })
        .collect()
}
