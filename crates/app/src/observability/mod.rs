//! Readiness and Prometheus metrics for the REST API. The alerts and the dashboard that read
//! them are in `deploy/observability/`.

mod gauges;
mod schedule_watch;
mod zero_series;

pub use schedule_watch::ScheduleWatch;

use std::sync::{Arc, OnceLock};

use antaeus_core::Clock;
use antaeus_core::billing::{BillingService, BreakerState, RunExecutor};
use antaeus_core::error_report::one_line;
use antaeus_core::store::{InvoiceStore, OutboxStore};
use antaeus_data::Database;
use antaeus_rest::{MetricsSource, Readiness};
use async_trait::async_trait;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Buckets of the charge latency histogram, in seconds.
const CHARGE_SECONDS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The process-wide Prometheus recorder, installed on first use.
pub fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("antaeus_charge_duration_seconds".into()),
                    CHARGE_SECONDS,
                )
                .expect("the bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            spawn_upkeep(handle.clone());
            // Another recorder (a test harness) may be installed already; ours still renders
            // what is recorded through it where it is the global one.
            let _ = metrics::set_global_recorder(recorder);
            zero_series::register();
            handle
        })
        .clone()
}

/// How often histogram samples are folded into their summaries.
const UPKEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Folds the recorder's raw histogram samples into its summaries every few seconds, on a
/// thread of its own. A recorder built with `build_recorder` keeps every sample until the next
/// scrape or upkeep: without this, a process that nobody scrapes grows by 8 bytes per charge.
pub fn spawn_upkeep(handle: PrometheusHandle) {
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                handle.run_upkeep();
            }
        });
    if let Err(err) = spawned {
        log::warn!("metrics: cannot start the upkeep thread: {err}");
    }
}

/// Ready when the database answers, within [`READINESS_DEADLINE`], and every migration is
/// applied.
pub struct DatabaseReadiness(pub Database);

/// The longest a readiness check waits for the database: probes (a load balancer's, an
/// orchestrator's) give up after a second or two, and an answer beats a timeout.
pub const READINESS_DEADLINE: std::time::Duration = std::time::Duration::from_secs(2);

#[async_trait]
impl Readiness for DatabaseReadiness {
    async fn check(&self) -> Result<(), String> {
        match tokio::time::timeout(READINESS_DEADLINE, self.0.is_migrated()).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => Err("database migrations are pending".into()),
            Ok(Err(err)) => Err(format!("database unreachable: {}", one_line(&err))),
            Err(_) => Err(format!(
                "database unreachable: no answer within {}s",
                READINESS_DEADLINE.as_secs()
            )),
        }
    }
}

/// Renders the metrics after refreshing the gauges that are read from storage at scrape time.
pub struct ServiceMetrics {
    /// The recorder's handle.
    pub handle: PrometheusHandle,
    /// Where invoices and the outbox live.
    pub db: Database,
    /// For the circuit breaker's state.
    pub billing: BillingService,
    /// For the number of runs in progress.
    pub executor: Arc<RunExecutor>,
    /// For the age of runs and the month's totals.
    pub clock: Arc<dyn Clock>,
    /// The built-in scheduler's schedules, when it is on: whether their fires started runs.
    pub schedules: Option<ScheduleWatch>,
}

#[async_trait]
impl MetricsSource for ServiceMetrics {
    async fn render(&self) -> String {
        match self.db.count_by_status().await {
            Ok(counts) => {
                for (status, n) in counts {
                    metrics::gauge!("antaeus_invoices", "status" => status.as_str()).set(n as f64);
                }
            }
            Err(err) => log::warn!("metrics: counting invoices failed: {}", one_line(&err)),
        }
        match self.db.outbox_backlog().await {
            Ok(n) => metrics::gauge!("antaeus_outbox_backlog").set(n as f64),
            Err(err) => log::warn!("metrics: reading the outbox failed: {}", one_line(&err)),
        }
        match self.db.dead_events().await {
            Ok(n) => metrics::gauge!("antaeus_outbox_dead_events").set(n as f64),
            Err(err) => log::warn!("metrics: counting dead events failed: {}", one_line(&err)),
        }
        let breaker = match self.billing.breaker_state() {
            BreakerState::Closed => 0.0,
            BreakerState::HalfOpen => 1.0,
            BreakerState::Open => 2.0,
        };
        metrics::gauge!("antaeus_circuit_breaker_state").set(breaker);
        metrics::gauge!("antaeus_runs_active").set(self.executor.active() as f64);
        gauges::refresh(self).await;
        self.handle.render()
    }
}
