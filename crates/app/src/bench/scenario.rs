//! One benchmark scenario, run in its own process: seed, bill (or hammer the store), check.

use std::sync::Arc;
use std::time::{Duration, Instant};

use antaeus_core::billing::{
    BillingConfig, BillingDeps, BillingService, ChargeEvent, ChargeState, RetryPolicy, RunRequest,
    SeededRandom, transition,
};
use antaeus_core::store::{
    AttemptCompletion, AttemptEnd, BillingStore, ClaimRequest, ClaimedInvoice, InstanceStore,
    InvoiceStore, JournalEntry, NewRun, RunStore,
};
use antaeus_core::{Clock, Shutdown, SystemClock};
use antaeus_data::Database;
use antaeus_models::{
    AttemptOutcome, IdempotencyKey, InstanceId, InvoiceStatus, RunId, RunTrigger,
};
use anyhow::{Context, bail};
use chrono::TimeDelta;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};

use super::store::{BenchStore, FreshDatabase};
use crate::provider::{OutcomeMix, SimulatedPaymentProvider, SimulationProfile};
use crate::seed::{self, SeedPlan};

/// What a scenario measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The store alone: claim, intent and outcome writes with no provider.
    Storage,
    /// The billing engine with the simulated provider.
    Engine,
}

impl Mode {
    /// `storage` or `engine`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Storage => "storage",
            Mode::Engine => "engine",
        }
    }
}

/// A scenario's parameters.
#[derive(Debug, Clone)]
pub struct ScenarioArgs {
    /// Where.
    pub store: BenchStore,
    /// What.
    pub mode: Mode,
    /// How many due invoices.
    pub invoices: u64,
    /// Provider latency.
    pub latency_ms: u64,
    /// Provider latency jitter.
    pub jitter_ms: u64,
    /// Concurrent provider calls.
    pub concurrency: usize,
}

impl ScenarioArgs {
    /// The arguments of `antaeus bench-scenario` that reproduce this scenario.
    pub fn to_cli(&self) -> Vec<String> {
        vec![
            "--store".into(),
            self.store.name().into(),
            "--mode".into(),
            self.mode.name().into(),
            "--invoices".into(),
            self.invoices.to_string(),
            "--latency-ms".into(),
            self.latency_ms.to_string(),
            "--jitter-ms".into(),
            self.jitter_ms.to_string(),
            "--concurrency".into(),
            self.concurrency.to_string(),
        ]
    }
}

/// What a scenario measured (one JSON line on the child's stdout).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioResult {
    /// `sqlite` or `postgres`.
    pub store: String,
    /// The mode.
    pub mode: Mode,
    /// Due invoices at the start.
    pub invoices: u64,
    /// Provider latency and jitter.
    pub latency_ms: u64,
    /// See [`ScenarioArgs`].
    pub jitter_ms: u64,
    /// See [`ScenarioArgs`].
    pub concurrency: usize,
    /// Wall time of the billing (seeding excluded).
    pub seconds: f64,
    /// Invoices processed per second.
    pub invoices_per_second: f64,
    /// Median time from claim to outcome, per invoice.
    pub p50_ms: f64,
    /// 99th percentile of the same.
    pub p99_ms: f64,
    /// Peak resident memory during the billing.
    pub peak_rss_mb: f64,
    /// Of which the simulated provider's ledger (8 bytes per invoice; a real provider is
    /// remote and adds nothing).
    #[serde(default)]
    pub provider_ledger_mb: f64,
    /// Provider calls made.
    pub provider_calls: u64,
    /// Charges the provider made.
    pub charges: u64,
    /// What the check found wrong, if anything.
    pub check_failure: Option<String>,
}

/// Runs the scenario in this process.
pub async fn run_scenario(args: ScenarioArgs) -> anyhow::Result<ScenarioResult> {
    let fresh = FreshDatabase::create(&args.store, 16).await?;
    let db = fresh.db.clone();
    seed_due(&db, args.invoices).await?;
    // One summary window over the whole run, so p50/p99 cover every invoice.
    let metrics = PrometheusBuilder::new()
        .set_bucket_duration(Duration::from_secs(3_600))
        .context("bucket duration")?
        .build_recorder();
    let handle = metrics.handle();
    crate::observability::spawn_upkeep(handle.clone());
    metrics::set_global_recorder(metrics).context("cannot install the metrics recorder")?;
    reset_peak_rss();
    let (seconds, ledger, check_failure) = match args.mode {
        Mode::Storage => {
            let began = chrono::Utc::now();
            let seconds = storage_ceiling(&db).await?;
            let ledger = Ledger::default();
            (
                seconds,
                ledger,
                check_settled(&db, args.invoices, began).await.err(),
            )
        }
        Mode::Engine => engine(&db, &args).await?,
    };
    let (p50, p99) = quantiles(&handle);
    Ok(ScenarioResult {
        store: args.store.name().into(),
        mode: args.mode,
        invoices: args.invoices,
        latency_ms: args.latency_ms,
        jitter_ms: args.jitter_ms,
        concurrency: args.concurrency,
        seconds,
        invoices_per_second: args.invoices as f64 / seconds.max(1e-9),
        p50_ms: p50 * 1_000.0,
        p99_ms: p99 * 1_000.0,
        peak_rss_mb: peak_rss_mb(),
        provider_ledger_mb: ledger.bytes as f64 / MIB,
        provider_calls: ledger.calls,
        charges: ledger.charges,
        check_failure,
    })
}

/// `invoices` due invoices, ten per customer.
async fn seed_due(db: &Database, invoices: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let plan = SeedPlan {
        customers: invoices.div_ceil(10),
        invoices_per_customer: 10.min(invoices),
        seed: 1,
        all_pending: true,
    };
    let report = seed::seed(db, plan).await?;
    eprintln!(
        "bench: seeded {} due invoices in {:.1}s",
        report.invoices,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

const MIB: f64 = 1_048_576.0;

/// What the simulated provider saw.
#[derive(Debug, Default)]
struct Ledger {
    calls: u64,
    charges: u64,
    bytes: usize,
}

/// The engine against the simulated provider; returns (seconds, the provider's ledger, check
/// failure).
async fn engine(
    db: &Database,
    args: &ScenarioArgs,
) -> anyhow::Result<(f64, Ledger, Option<String>)> {
    let provider = Arc::new(SimulatedPaymentProvider::new(SimulationProfile {
        outcomes: OutcomeMix::parse(OutcomeMix::DEFAULT_SPEC).map_err(anyhow::Error::msg)?,
        latency: Duration::from_millis(args.latency_ms),
        jitter: Duration::from_millis(args.jitter_ms.min(args.latency_ms)),
        seed: 7,
    }));
    let store = Arc::new(db.clone());
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let billing = BillingService::new(
        BillingDeps {
            billing: store.clone(),
            runs: store.clone(),
            instances: store,
            provider: provider.clone(),
            clock,
            random: Arc::new(SeededRandom::new(3)),
        },
        BillingConfig {
            concurrency: args.concurrency,
            max_claim: 1_000,
            ..BillingConfig::default()
        },
        format!("bench-{}", std::process::id()),
    );
    let request = RunRequest {
        key: IdempotencyKey::parse("bench")?,
        trigger: RunTrigger::Cli,
        fingerprint: "bench".into(),
    };
    let began = chrono::Utc::now();
    let started = Instant::now();
    let run = billing.bill(&request, Shutdown::never()).await?;
    let seconds = started.elapsed().as_secs_f64();
    let ledger = provider.summary();
    let mut failure = check_settled(db, args.invoices, began).await.err();
    if !ledger.double_charged.is_empty() {
        failure = Some(format!(
            "{} invoices charged twice",
            ledger.double_charged.len()
        ));
    }
    if run.counts.in_flight() != 0 || run.abort_reason.is_some() {
        failure = Some(format!("the run did not complete cleanly: {run:?}"));
    }
    let paid = count(db, InvoiceStatus::Paid).await?;
    if ledger.charges < paid {
        failure = Some(format!(
            "{paid} PAID invoices but only {} charges",
            ledger.charges
        ));
    }
    let ledger = Ledger {
        calls: ledger.calls,
        charges: ledger.charges,
        bytes: provider.ledger_bytes(),
    };
    Ok((seconds, ledger, failure))
}

/// Every invoice PAID, FAILED, or PENDING with a later attempt: none claimed, none still due
/// that was due when billing began (those a run released unsent, or never reached). Invoices
/// rescheduled during the run may fall due again by the time this runs; they are not counted.
async fn check_settled(
    db: &Database,
    invoices: u64,
    began: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
    let counts = db.count_by_status().await.map_err(|e| e.to_string())?;
    let total: u64 = counts.iter().map(|(_, n)| n).sum();
    if total != invoices {
        return Err(format!("{total} invoices after the run, {invoices} before"));
    }
    if let Some((_, n)) = counts
        .iter()
        .find(|(s, n)| *s == InvoiceStatus::Charging && *n > 0)
    {
        return Err(format!("{n} invoices left claimed"));
    }
    let due = db.count_due(began).await.map_err(|e| e.to_string())?;
    if due > 0 {
        return Err(format!(
            "{due} invoices due when billing began are still due"
        ));
    }
    Ok(())
}

async fn count(db: &Database, status: InvoiceStatus) -> anyhow::Result<u64> {
    Ok(db
        .count_by_status()
        .await?
        .into_iter()
        .find(|(s, _)| *s == status)
        .map_or(0, |(_, n)| n))
}

/// The store alone, as fast as it goes: a claimer claims batches of 1,000 (intents included)
/// while a recorder records the previous batch as charged, the two overlapping as the engine's
/// claimer and journal writer do, until nothing is due. Returns the seconds it took.
async fn storage_ceiling(db: &Database) -> anyhow::Result<f64> {
    let worker = InstanceId::parse(format!("bench-storage-{}", std::process::id()))?;
    let now = chrono::Utc::now();
    let (run, _) = db
        .create_run(&NewRun {
            idempotency_key: IdempotencyKey::parse("bench-storage")?,
            trigger: RunTrigger::Cli,
            instance: worker.clone(),
            now,
            request_fingerprint: "bench".into(),
        })
        .await?;
    db.heartbeat(&worker, now).await?;
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
            JournalEntry::Finish {
                invoice: c.invoice.id,
                run,
                fence: c.fence(),
                attempt: match &c.attempt {
                    Some(a) => AttemptEnd::Completed(AttemptCompletion {
                        number: a.number,
                        outcome,
                        message: None,
                        finished_at: now,
                    }),
                    None => AttemptEnd::None,
                },
                transition: transition(
                    ChargeState::default(),
                    None,
                    ChargeEvent::Called(outcome),
                    &RetryPolicy::default(),
                    now,
                ),
                notification: None,
            }
        })
        .collect()
}

/// p50 and p99 of the per-invoice time, in seconds, from the summary the recorder keeps.
fn quantiles(handle: &PrometheusHandle) -> (f64, f64) {
    let text = handle.render();
    let q = |quantile: &str| {
        let prefix = format!("antaeus_invoice_seconds{{quantile=\"{quantile}\"}} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0.0)
    };
    (q("0.5"), q("0.99"))
}

/// Forgets the peak so far (Linux: /proc/self/clear_refs), so the seeding does not count.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident set size since the last reset, in MiB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
