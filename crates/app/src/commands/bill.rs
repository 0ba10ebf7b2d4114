//! `antaeus bill`: one billing run to completion, with a summary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use antaeus_core::Shutdown;
use antaeus_core::billing::{BillingService, RunRequest};
use antaeus_core::error_report::one_line;
use antaeus_core::notify::OutboxWorker;
use antaeus_core::store::{AttemptStore, OutboxStore};
use antaeus_models::{
    BillingRun, CallCounts, IdempotencyKey, RunId, RunScope, RunStatus, RunTrigger,
};
use anyhow::{Context, bail};

use super::bill_progress::RunProgress;
use crate::cli::BillArgs;
use crate::settings::Settings;
use crate::{signals, startup, wiring};

/// Runs billing once and prints what it did; fails when the run was aborted.
pub async fn bill(settings: &Settings, args: BillArgs) -> anyhow::Result<()> {
    let key = match args.idempotency_key {
        Some(key) => IdempotencyKey::parse(key).context("invalid --idempotency-key")?,
        None => generated_key(),
    };
    let db = startup::open_database(settings).await?;
    startup::warn_if_autovacuum_off(&db).await;
    let clock = wiring::system_clock();
    let provider = wiring::provider(&settings.provider)?;
    let outbox = wiring::outbox_worker(&db, settings, clock.clone())?;
    let billing = wiring::billing_service(&db, &provider, settings, clock);

    let (stop_outbox, outbox_signal) = Shutdown::new();
    let delivering = tokio::spawn(outbox.clone().run(outbox_signal));
    let started = Instant::now();
    let scope = if args.retries {
        RunScope::Retries
    } else {
        RunScope::All
    };
    let request = RunRequest::new(key, RunTrigger::Cli, scope);
    let shutdown = signals::shutdown_on_signals();
    let (run, created) = billing
        .create_run(&request)
        .await
        .context("cannot start a billing run")?;
    // Whether this process drove the run (so that how it ended is this command's outcome).
    let (run, driven) = if created {
        let id = run.id;
        let watch = RunProgress::watch(Arc::new(db.clone()), id);
        let ended = billing.execute(run, shutdown.clone()).await;
        watch.stop().await;
        (ended.with_context(|| unrecorded_end(id))?, true)
    } else if let Some(adopted) = billing.adopt_if_abandoned(&run).await? {
        println!(
            "run {} was abandoned by its instance ({}): resuming it",
            run.id, run.instance_id
        );
        let watch = RunProgress::watch(Arc::new(db.clone()), run.id);
        let ended = billing.execute(adopted, shutdown.clone()).await;
        watch.stop().await;
        (ended.with_context(|| unrecorded_end(run.id))?, true)
    } else if run.status == RunStatus::Running {
        println!(
            "run {} is running on instance {}: nothing charged here",
            run.id, run.instance_id
        );
        (run, false)
    } else {
        println!(
            "run {} already exists for this key: nothing charged",
            run.id
        );
        (run, false)
    };
    let run = if driven {
        resume_handed_over(&billing, run, &shutdown).await?
    } else {
        run
    };
    if !shutdown.is_requested() {
        finish_abandoned_runs(&billing, shutdown.clone()).await;
    }
    let elapsed = started.elapsed();
    stop_outbox.trigger();
    let _ = delivering.await;
    let draining = Instant::now();
    // Every event of the run is written by now: the drain looks at all of them, not only
    // those above where the takes during the run had got to.
    db.rewind_outbox();
    let delivered = deliver_remaining(&outbox, &shutdown).await;
    let drained_in = draining.elapsed();

    let calls = db.run_calls(run.id).await?;
    print_summary(&run, &calls, elapsed);
    print_events(&db, delivered, drained_in).await;
    if let Some(simulated) = &provider.simulated {
        let ledger = simulated.summary();
        println!(
            "simulated provider ledger: {} calls, {} charges, {} invoices charged twice",
            ledger.calls,
            ledger.charges,
            ledger.double_charged.len()
        );
    }
    match run.status {
        RunStatus::Aborted => bail!(
            "billing run {} aborted: {}",
            run.id,
            run.abort_reason.as_deref().unwrap_or("unknown reason")
        ),
        RunStatus::Running if driven => bail!(
            "billing run {} stopped before its end: {}; it stays RUNNING and is resumed by `antaeus serve` or by `antaeus bill --idempotency-key {}`",
            run.id,
            run.abort_reason
                .as_deref()
                .unwrap_or("storage trouble, see the log"),
            run.idempotency_key
        ),
        _ => Ok(()),
    }
}

/// Tries again, here, a run this process handed over (storage trouble stopped it: its
/// heartbeats, claims or outcome writes kept failing), as long as the database answers: a
/// brief outage does not need another command. Gives up after a few tries (the run stays
/// RUNNING for `serve` or the next `antaeus bill`).
async fn resume_handed_over(
    billing: &BillingService,
    mut run: BillingRun,
    shutdown: &Shutdown,
) -> anyhow::Result<BillingRun> {
    for _ in 0..RESUME_TRIES {
        if run.status != RunStatus::Running || shutdown.is_requested() {
            break;
        }
        let Ok(Some(adopted)) = billing.adopt_if_abandoned(&run).await else {
            break;
        };
        println!(
            "run {} stopped ({}): resuming it",
            run.id,
            run.abort_reason.as_deref().unwrap_or("storage trouble")
        );
        let id = adopted.id;
        run = billing
            .execute(adopted, shutdown.clone())
            .await
            .with_context(|| unrecorded_end(id))?;
    }
    Ok(run)
}

/// How many times `antaeus bill` resumes its own run after storage trouble.
const RESUME_TRIES: usize = 3;

/// Ends the runs whose instances died (there may be no server to do it): each is resumed and
/// finds what is left of its work; failures are only reported, this run's outcome stands.
async fn finish_abandoned_runs(billing: &BillingService, shutdown: Shutdown) {
    let adopted = match billing.adopt_abandoned(16).await {
        Ok(adopted) => adopted,
        Err(err) => {
            log::warn!("looking for abandoned runs failed: {}", one_line(&err));
            return;
        }
    };
    for run in adopted {
        println!("run {} was abandoned by its instance: resuming it", run.id);
        if let Err(err) = billing.execute(run, shutdown.clone()).await {
            log::warn!("an abandoned run could not be resumed: {}", one_line(&err));
        }
    }
}

/// Why `bill` failed when a run ended but its end could not be written (e.g. the disk is full):
/// the run stays RUNNING, and its instance goes stale, so the next `antaeus bill` resumes it.
fn unrecorded_end(run: RunId) -> String {
    format!(
        "billing run {run} stopped and could not record its end (the next antaeus bill resumes it)"
    )
}

/// `cli-<UTC time>-<random>`: a new run per invocation.
fn generated_key() -> IdempotencyKey {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    IdempotencyKey::parse(format!("cli-{stamp}-{:08x}", rand::random::<u32>()))
        .expect("the generated key is visible ASCII")
}

/// Delivers what the run's events left in the outbox before the command exits, as long as
/// deliveries succeed (a receiver that is down, or SIGINT/SIGTERM, leaves the rest to
/// `antaeus serve`); returns how many it delivered.
async fn deliver_remaining(outbox: &OutboxWorker, shutdown: &Shutdown) -> u64 {
    u64::from(outbox.drain(shutdown).await.delivered)
}

/// One line on the events delivered after the run, and those left for a server.
async fn print_events(db: &antaeus_data::Database, delivered: u64, took: Duration) {
    let left = match db.outbox_backlog().await {
        Ok(0) => String::new(),
        Ok(n) => format!("; {n} left in the outbox for `antaeus serve` to deliver"),
        Err(err) => format!("; the outbox could not be read: {}", one_line(&err)),
    };
    println!(
        "events: {delivered} delivered after the run in {:.1}s{left}",
        took.as_secs_f64()
    );
}

fn print_summary(run: &BillingRun, calls: &CallCounts, elapsed: Duration) {
    for line in super::run_summary::summary_lines(run, calls, elapsed) {
        println!("{line}");
    }
}
