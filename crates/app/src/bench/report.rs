//! The benchmark's report: a table for people and a JSON line for tools.

use serde_json::json;

use super::scenario::ScenarioResult;
use super::{BenchPlan, BenchStore};

/// One store's results with the ceilings they are compared to.
pub struct Summary<'a> {
    store: &'a BenchStore,
    plan: &'a BenchPlan,
    storage: &'a ScenarioResult,
    instant: &'a ScenarioResult,
    real: &'a ScenarioResult,
}

impl<'a> Summary<'a> {
    /// The summary of `results` (storage ceiling, instant provider, real provider).
    pub fn new(store: &'a BenchStore, plan: &'a BenchPlan, results: &'a [ScenarioResult]) -> Self {
        Self {
            store,
            plan,
            storage: &results[0],
            instant: &results[1],
            real: &results[2],
        }
    }

    /// The provider ceiling, C / L, in invoices per second.
    fn provider_ceiling(&self) -> f64 {
        self.plan.concurrency as f64 / (self.plan.latency_ms.max(1) as f64 / 1_000.0)
    }

    /// A human-readable table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "\n{} — {} invoices, C = {}, provider ceiling C/L = {:.0}/s, storage ceiling = {:.0}/s\n",
            self.store.name(),
            self.plan.invoices,
            self.plan.concurrency,
            self.provider_ceiling(),
            self.storage.invoices_per_second
        );
        out.push_str(
            "scenario              seconds  invoices/s  ratio            p50 ms   p99 ms  peak RSS MB  provider calls  check\n",
        );
        for (label, r, ratio) in [
            ("storage ceiling", self.storage, String::from("-")),
            (
                "engine, L = 0",
                self.instant,
                format!(
                    "{:.0}% of storage",
                    100.0 * self.instant.invoices_per_second / self.storage.invoices_per_second
                ),
            ),
            (
                "engine, L = real",
                self.real,
                format!(
                    "{:.0}% of provider",
                    100.0 * self.real.invoices_per_second / self.provider_ceiling()
                ),
            ),
        ] {
            out.push_str(&format!(
                "{label:<20} {:>8.1} {:>11.0}  {ratio:<16} {:>7.1} {:>8.1} {:>12.1} {:>15}  {}\n",
                r.seconds,
                r.invoices_per_second,
                r.p50_ms,
                r.p99_ms,
                r.peak_rss_mb,
                r.provider_calls,
                r.check_failure.as_deref().unwrap_or("ok")
            ));
        }
        out
    }

    /// One JSON object for `target/bench/results.jsonl`.
    pub fn json_line(&self) -> String {
        let scenario = |r: &ScenarioResult| {
            json!({
                "mode": r.mode,
                "latency_ms": r.latency_ms,
                "jitter_ms": r.jitter_ms,
                "seconds": r.seconds,
                "invoices_per_second": r.invoices_per_second,
                "p50_ms": r.p50_ms,
                "p99_ms": r.p99_ms,
                "peak_rss_mb": r.peak_rss_mb,
                "provider_calls": r.provider_calls,
                "charges": r.charges,
                "check": r.check_failure.as_deref().unwrap_or("ok"),
            })
        };
        json!({
            "at": chrono::Utc::now().to_rfc3339(),
            "store": self.store.name(),
            "invoices": self.plan.invoices,
            "concurrency": self.plan.concurrency,
            "provider_ceiling_per_second": self.provider_ceiling(),
            "storage_ceiling_per_second": self.storage.invoices_per_second,
            "instant_ratio_of_storage": self.instant.invoices_per_second / self.storage.invoices_per_second,
            "real_ratio_of_provider": self.real.invoices_per_second / self.provider_ceiling(),
            "scenarios": [scenario(self.storage), scenario(self.instant), scenario(self.real)],
        })
        .to_string()
    }
}
