//! The benchmark's report: a table for people and a JSON line for tools.

use serde_json::json;

use super::scenario::ScenarioResult;
use super::{BenchPlan, BenchStore};

/// One store's results with the ceilings they are compared to.
pub struct Summary<'a> {
    store: &'a BenchStore,
    plan: &'a BenchPlan,
    storage: &'a ScenarioResult,
    by_hand: &'a ScenarioResult,
    instant: &'a ScenarioResult,
    real: &'a ScenarioResult,
    /// The rates of every storage-ceiling run (the median is `storage`).
    storage_samples: &'a [f64],
}

impl<'a> Summary<'a> {
    /// The summary of `results` (storage ceiling, by hand, instant provider, real provider), with the
    /// rates of each storage-ceiling run.
    pub fn new(
        store: &'a BenchStore,
        plan: &'a BenchPlan,
        results: &'a [ScenarioResult],
        storage_samples: &'a [f64],
    ) -> Self {
        Self {
            store,
            plan,
            storage: &results[0],
            by_hand: &results[1],
            instant: &results[2],
            real: &results[3],
            storage_samples,
        }
    }

    /// The provider ceiling, C / L: provider calls per second.
    fn provider_ceiling(&self) -> f64 {
        self.plan.concurrency as f64 / (self.plan.latency_ms.max(1) as f64 / 1_000.0)
    }

    /// The real-provider scenario's calls per second against the provider ceiling: how busy it
    /// kept the C slots. Invoices whose outcome was unknown needed more than one call, so the
    /// invoice rate against C / L is lower by the calls per invoice.
    fn call_ratio(&self) -> f64 {
        calls_per_second(self.real) / self.provider_ceiling()
    }

    /// The storage path against the same writes by hand.
    fn storage_ratio(&self) -> f64 {
        self.storage.invoices_per_second / self.by_hand.invoices_per_second.max(1e-9)
    }

    fn invoice_ratio(&self) -> f64 {
        self.real.invoices_per_second / self.provider_ceiling()
    }

    /// A human-readable table.
    pub fn table(&self) -> String {
        let samples: Vec<String> = self
            .storage_samples
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect();
        let mut out = format!(
            "\n{} — {} invoices, C = {}, provider ceiling C/L = {:.0}/s, storage ceiling = {:.0}/s (median of {})\n",
            self.store.name(),
            self.plan.invoices,
            self.plan.concurrency,
            self.provider_ceiling(),
            self.storage.invoices_per_second,
            samples.join(", ")
        );
        out.push_str(
            "scenario              seconds  invoices/s  calls/s  ratio            p50 ms   p99 ms  peak RSS MB  ledger MB  provider calls   events  drain s    db MB  check\n",
        );
        for (label, r, ratio) in [
            (
                "storage ceiling",
                self.storage,
                format!("{:.2}x by hand", self.storage_ratio()),
            ),
            ("by hand", self.by_hand, String::from("-")),
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
                format!("{:.0}% of C/L", 100.0 * self.call_ratio()),
            ),
        ] {
            out.push_str(&format!(
                "{label:<20} {:>8.1} {:>11.0} {:>8.0}  {ratio:<16} {:>7.1} {:>8.1} {:>12.1} {:>10.1} {:>15} {:>8} {:>8.1} {:>8.0}  {}\n",
                r.seconds,
                r.invoices_per_second,
                calls_per_second(r),
                r.p50_ms,
                r.p99_ms,
                r.peak_rss_mb,
                r.provider_ledger_mb,
                r.provider_calls,
                r.events_delivered,
                r.drain_seconds,
                r.database_mb,
                r.check_failure.as_deref().unwrap_or("ok")
            ));
        }
        out.push_str(
            "engine scenarios deliver every event (signed webhooks to a local receiver) and end when the outbox is empty; \"drain s\" of their seconds came after the run\n",
        );
        out.push_str(
            "peak RSS includes the simulated provider's ledger (\"ledger MB\"), which lives in this process only because the provider does\n",
        );
        out.push_str(&format!(
            "L = real: the provider's slots were {:.0}% busy (calls/s against C/L); invoices/s is {:.0}% of C/L, at {:.3} calls per invoice\n",
            100.0 * self.call_ratio(),
            100.0 * self.invoice_ratio(),
            self.real.provider_calls as f64 / self.real.invoices.max(1) as f64
        ));
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
                "calls_per_second": calls_per_second(r),
                "p50_ms": r.p50_ms,
                "p99_ms": r.p99_ms,
                "peak_rss_mb": r.peak_rss_mb,
                "provider_ledger_mb": r.provider_ledger_mb,
                "provider_calls": r.provider_calls,
                "charges": r.charges,
                "events_delivered": r.events_delivered,
                "drain_seconds": r.drain_seconds,
                "database_mb": r.database_mb,
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
            "storage_ceiling_samples": self.storage_samples,
            "by_hand_per_second": self.by_hand.invoices_per_second,
            "storage_ratio_of_by_hand": self.storage_ratio(),
            "instant_ratio_of_storage": self.instant.invoices_per_second / self.storage.invoices_per_second,
            "real_call_ratio_of_provider": self.call_ratio(),
            "real_invoice_ratio_of_provider": self.invoice_ratio(),
            "scenarios": [
                scenario(self.storage),
                scenario(self.by_hand),
                scenario(self.instant),
                scenario(self.real),
            ],
        })
        .to_string()
    }
}

/// Provider calls per second of a scenario.
fn calls_per_second(r: &ScenarioResult) -> f64 {
    r.provider_calls as f64 / r.seconds.max(1e-9)
}
