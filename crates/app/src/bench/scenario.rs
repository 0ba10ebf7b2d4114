//! One benchmark scenario, run in its own process: seed, bill (or hammer the store), check.

use std::sync::Arc;
use std::time::{Duration, Instant};

use antaeus_core::billing::{BillingConfig, BillingDeps, BillingService, RunRequest, SeededRandom};
use antaeus_core::store::InvoiceStore;
use antaeus_core::{Clock, Shutdown, SystemClock};
use antaeus_data::Database;
use antaeus_models::{IdempotencyKey, InvoiceStatus, RunScope, RunTrigger};
use anyhow::Context;
use metrics_exporter_prometheus::PrometheusBuilder;
use serde::{Deserialize, Serialize};

use super::delivery::Delivery;
use super::measure::{peak_rss_mb, quantiles, reset_peak_rss};
use super::storage_ceiling::{by_hand, storage_ceiling};
use super::store::{BenchStore, FreshDatabase};
use crate::provider::{OutcomeMix, SimulatedPaymentProvider, SimulationProfile};
use crate::seed::{self, SeedPlan};

/// What a scenario measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The store alone: claim, intent and outcome writes with no provider.
    Storage,
    /// The same writes by hand: plain batched SQL on the schema from one connection.
    ByHand,
    /// The billing engine with the simulated provider.
    Engine,
}

impl Mode {
    /// `storage` or `engine`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Storage => "storage",
            Mode::ByHand => "by_hand",
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
    /// Wall time of the billing (seeding excluded), until every event it made was delivered.
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
    /// Events the local webhook receiver took (engine scenarios).
    #[serde(default)]
    pub events_delivered: u64,
    /// Of `seconds`, how long the outbox took to empty after the run ended.
    #[serde(default)]
    pub drain_seconds: f64,
    /// The database's size when the scenario ended (indexes, delivered events and dead rows
    /// included).
    #[serde(default)]
    pub database_mb: f64,
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
                check_settled(&db, &db.count_by_status().await?, args.invoices, began)
                    .await
                    .err(),
            )
        }
        Mode::ByHand => {
            let began = chrono::Utc::now();
            let seconds = by_hand(&db).await?;
            (
                seconds,
                Ledger::default(),
                check_settled(&db, &db.count_by_status().await?, args.invoices, began)
                    .await
                    .err(),
            )
        }
        Mode::Engine => engine(&db, &args).await?,
    };
    let (p50, p99) = quantiles(&handle);
    let database_mb = db.size_bytes().await? as f64 / MIB;
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
        events_delivered: ledger.events,
        drain_seconds: ledger.drain_seconds,
        database_mb,
        check_failure,
    })
}

/// `invoices` due invoices, ten per customer (the remainder one per customer).
async fn seed_due(db: &Database, invoices: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut seeded = 0;
    for (seed, customers, invoices_per_customer) in [(1, invoices / 10, 10), (2, invoices % 10, 1)]
    {
        if customers == 0 {
            continue;
        }
        let plan = SeedPlan {
            customers,
            invoices_per_customer,
            seed,
            all_pending: true,
            due_at: None,
        };
        seeded += seed::seed(db, plan).await?.invoices;
    }
    eprintln!(
        "bench: seeded {seeded} due invoices in {:.1}s",
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
    /// Events delivered, and how long the outbox took to empty after the run.
    events: u64,
    drain_seconds: f64,
}

/// The engine against the simulated provider, its events delivered by the outbox worker as
/// `serve` and `bill` deliver them; returns (seconds until the outbox is empty, the provider's
/// ledger, check failure).
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
    let delivery = Delivery::start(db, clock.clone())?;
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
    let request = RunRequest::new(
        IdempotencyKey::parse("bench")?,
        RunTrigger::Cli,
        RunScope::All,
    );
    let began = chrono::Utc::now();
    let started = Instant::now();
    let run = billing.bill(&request, Shutdown::never()).await?;
    let delivered = delivery.drain(db).await?;
    let seconds = started.elapsed().as_secs_f64();
    let ledger = provider.summary();
    let counts = db.count_by_status().await?;
    // Every check that fails is named, so that one cannot hide another.
    let mut failures: Vec<String> = check_settled(db, &counts, args.invoices, began)
        .await
        .err()
        .into_iter()
        .collect();
    if !ledger.double_charged.is_empty() {
        failures.push(format!(
            "{} invoices charged twice",
            ledger.double_charged.len()
        ));
    }
    if run.counts.in_flight() != 0 || run.abort_reason.is_some() {
        failures.push(format!("the run did not complete cleanly: {run:?}"));
    }
    let paid = counts
        .iter()
        .find(|(s, _)| *s == InvoiceStatus::Paid)
        .map_or(0, |(_, n)| *n);
    if ledger.charges < paid {
        failures.push(format!(
            "{paid} PAID invoices but only {} charges",
            ledger.charges
        ));
    }
    // Every PAID invoice announced `invoice.paid` at least once.
    if delivered.events < paid {
        failures.push(format!(
            "{paid} PAID invoices but only {} events delivered",
            delivered.events
        ));
    }
    failures.extend(delivered.failure);
    let failure = (!failures.is_empty()).then(|| failures.join("; "));
    let ledger = Ledger {
        calls: ledger.calls,
        charges: ledger.charges,
        bytes: provider.ledger_bytes(),
        events: delivered.events,
        drain_seconds: delivered.drain.as_secs_f64(),
    };
    Ok((seconds, ledger, failure))
}

/// Every invoice PAID, FAILED, or PENDING with a later attempt: none claimed, none still due
/// that was due when billing began (those a run released unsent, or never reached). Invoices
/// rescheduled during the run may fall due again by the time this runs; they are not counted.
async fn check_settled(
    db: &Database,
    counts: &[(InvoiceStatus, u64)],
    invoices: u64,
    began: chrono::DateTime<chrono::Utc>,
) -> Result<(), String> {
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
