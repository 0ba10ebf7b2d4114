//! `antaeus bench` and the scenarios it runs in child processes.

use anyhow::bail;

use crate::bench::{self, BenchPlan, BenchStore, Mode, ScenarioArgs};
use crate::cli::{BenchArgs, BenchScenarioArgs};

/// Runs the benchmark.
pub async fn bench(args: BenchArgs) -> anyhow::Result<()> {
    bench::bench(BenchPlan {
        invoices: args.invoices,
        latency_ms: args.latency_ms,
        jitter_ms: args.jitter_ms,
        concurrency: usize::try_from(args.concurrency)?,
        out_dir: args.out_dir,
    })
    .await
}

/// Runs one scenario and prints its result as one JSON line.
pub async fn scenario(args: BenchScenarioArgs) -> anyhow::Result<()> {
    let store = match args.store.as_str() {
        "sqlite" => BenchStore::Sqlite,
        "postgres" => BenchStore::Postgres(std::env::var("ANTAEUS_BENCH_POSTGRES_URL")?),
        other => bail!("unknown store {other:?}: expected sqlite or postgres"),
    };
    let mode = match args.mode.as_str() {
        "storage" => Mode::Storage,
        "by_hand" => Mode::ByHand,
        "engine" => Mode::Engine,
        other => bail!("unknown mode {other:?}: expected storage, by_hand or engine"),
    };
    let result = bench::run_scenario(ScenarioArgs {
        store,
        mode,
        invoices: args.invoices,
        latency_ms: args.latency_ms,
        jitter_ms: args.jitter_ms,
        concurrency: usize::try_from(args.concurrency)?,
    })
    .await?;
    println!("{}", serde_json::to_string(&result)?);
    Ok(())
}
