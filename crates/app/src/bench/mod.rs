//! `antaeus bench`: a million invoices against the provider and storage ceilings.
//!
//! For each store (SQLite, and PostgreSQL when `ANTAEUS_BENCH_POSTGRES_URL` is set) it runs four
//! scenarios, each in a fresh child process on a freshly seeded database, so that peak RSS and
//! latency figures belong to that scenario alone:
//! - **storage ceiling**: the same claim, intent and outcome writes with no provider at all, a
//!   claimer and a recorder overlapping as in the engine — how fast the store can go (the
//!   median of three runs, the shortest and noisiest scenario);
//! - **by hand**: what those writes cost the schema itself: the same rows written in plain
//!   batched SQL from one connection, without the engine's fences and bookkeeping (also the
//!   median of three);
//! - **instant provider** (L = 0): the engine with a provider that answers at once;
//! - **real provider** (L = 50 ms with jitter by default): the engine at concurrency C, whose
//!   ceiling is C / L.
//!
//! The engine scenarios run as `serve` and `bill` do: the outbox worker delivers every event the
//! run makes (signed webhooks to a receiver on a local port) beside it, and a scenario's time
//! ends when the outbox is empty, not when the run does.
//!
//! Every engine scenario checks its result: nobody charged twice (the provider's ledger), every
//! invoice PAID, FAILED or PENDING with a next attempt, none left claimed or due. A failed check
//! is an error, not a figure.

mod delivery;
mod measure;
mod receiver;
mod report;
mod scenario;
mod storage_ceiling;
mod store;

use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;

use anyhow::{Context, bail};

pub use scenario::{Mode, ScenarioArgs, ScenarioResult, run_scenario};
pub use store::BenchStore;

/// What `antaeus bench` runs.
#[derive(Debug, Clone)]
pub struct BenchPlan {
    /// Invoices per scenario.
    pub invoices: u64,
    /// Provider latency of the real-provider scenario.
    pub latency_ms: u64,
    /// Its jitter.
    pub jitter_ms: u64,
    /// Concurrent provider calls.
    pub concurrency: usize,
    /// Where JSON lines go.
    pub out_dir: PathBuf,
}

/// Runs every scenario on every configured store; fails if any check fails.
pub async fn bench(plan: BenchPlan) -> anyhow::Result<()> {
    let mut stores = vec![BenchStore::Sqlite];
    match std::env::var("ANTAEUS_BENCH_POSTGRES_URL") {
        Ok(url) => stores.push(BenchStore::Postgres(url)),
        Err(_) => eprintln!("ANTAEUS_BENCH_POSTGRES_URL is not set: benchmarking SQLite only"),
    }
    std::fs::create_dir_all(&plan.out_dir)
        .with_context(|| format!("cannot create {}", plan.out_dir.display()))?;
    let results_path = plan.out_dir.join("results.jsonl");
    let mut failed = Vec::new();
    for store in stores {
        let mut results = Vec::new();
        let mut storage_samples = Vec::new();
        for (mode, latency, jitter) in [
            (Mode::Storage, 0, 0),
            (Mode::ByHand, 0, 0),
            (Mode::Engine, 0, 0),
            (Mode::Engine, plan.latency_ms, plan.jitter_ms),
        ] {
            let args = ScenarioArgs {
                store: store.clone(),
                mode,
                invoices: plan.invoices,
                latency_ms: latency,
                jitter_ms: jitter,
                concurrency: plan.concurrency,
            };
            eprintln!(
                "bench: {} {} (L = {latency} ms) …",
                store.name(),
                mode.name()
            );
            // The storage scenarios are short and the noisiest: their medians of three runs.
            let runs = if mode == Mode::Engine {
                1
            } else {
                STORAGE_RUNS
            };
            let mut samples = Vec::with_capacity(runs);
            for _ in 0..runs {
                let result = run_child(&args).await?;
                if let Some(problem) = &result.check_failure {
                    failed.push(format!("{} {}: {problem}", store.name(), mode.name()));
                }
                samples.push(result);
            }
            if mode == Mode::Storage {
                storage_samples = samples.iter().map(|r| r.invoices_per_second).collect();
            }
            results.push(median(samples));
        }
        let summary = report::Summary::new(&store, &plan, &results, &storage_samples);
        println!("{}", summary.table());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&results_path)
            .with_context(|| format!("cannot open {}", results_path.display()))?;
        writeln!(file, "{}", summary.json_line())?;
    }
    println!("results appended to {}", results_path.display());
    if !failed.is_empty() {
        bail!("benchmark checks failed: {}", failed.join("; "));
    }
    Ok(())
}

/// How many times each storage scenario is measured (the median counts).
const STORAGE_RUNS: usize = 3;

/// The run with the median rate.
fn median(mut samples: Vec<ScenarioResult>) -> ScenarioResult {
    samples.sort_by(|a, b| a.invoices_per_second.total_cmp(&b.invoices_per_second));
    let middle = samples.len() / 2;
    samples.swap_remove(middle)
}

/// Runs one scenario in a child process (`antaeus bench-scenario …`) and reads its result.
async fn run_child(args: &ScenarioArgs) -> anyhow::Result<ScenarioResult> {
    let exe = std::env::current_exe().context("cannot find the antaeus executable")?;
    let mut command = tokio::process::Command::new(exe);
    command
        .arg("bench-scenario")
        .args(args.to_cli())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    if let BenchStore::Postgres(url) = &args.store {
        command.env("ANTAEUS_BENCH_POSTGRES_URL", url);
    }
    // One line per failed invoice would be thousands of lines here.
    command.env(
        "RUST_LOG",
        std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into()),
    );
    let output = command
        .output()
        .await
        .context("cannot run a benchmark scenario")?;
    if !output.status.success() {
        bail!(
            "benchmark scenario {} failed ({})",
            args.mode.name(),
            output.status
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("unreadable scenario result: {line:?}"))
}
