//! The gauges read at each scrape for the alerts of `deploy/observability/`: readiness, the
//! oldest RUNNING run, the scheduled fires, open disputes and this month's failed invoices.
//! Each is one indexed lookup or a read of a small table kept up to date by the writes (no scan
//! of invoices), so a scrape costs the same at a thousand invoices and at a million.

use antaeus_core::error_report::one_line;
use antaeus_core::store::{ConsoleStore, StatsStore};
use antaeus_models::MonthlyMetric;
use antaeus_rest::Readiness;
use chrono::{DateTime, Utc};

use super::{DatabaseReadiness, ServiceMetrics};

/// A Unix time in seconds, as Prometheus compares it with `time()`.
fn unix_seconds(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

/// Refreshes every gauge of this module, their reads side by side (each is one round trip).
pub(super) async fn refresh(metrics: &ServiceMetrics) {
    let now = metrics.clock.now();
    tokio::join!(
        readiness(metrics),
        oldest_running_run(metrics, now),
        scheduled_fires(metrics, now),
        open_disputes(metrics),
        this_month(metrics, now),
    );
}

/// `antaeus_ready`: 1 while the database answers and is migrated.
async fn readiness(metrics: &ServiceMetrics) {
    let ready = DatabaseReadiness(metrics.db.clone()).check().await.is_ok();
    metrics::gauge!("antaeus_ready").set(if ready { 1.0 } else { 0.0 });
}

/// `antaeus_disputes_open`.
async fn open_disputes(metrics: &ServiceMetrics) {
    match metrics.db.open_disputes().await {
        Ok(n) => metrics::gauge!("antaeus_disputes_open").set(n as f64),
        Err(err) => log::warn!("metrics: counting open disputes failed: {}", one_line(&err)),
    }
}

/// `antaeus_runs_oldest_running_age_seconds`: how long the oldest RUNNING run has run (0: none).
async fn oldest_running_run(metrics: &ServiceMetrics, now: DateTime<Utc>) {
    match metrics.db.oldest_running_run_start().await {
        Ok(start) => {
            let age = start.map_or(0.0, |s| (now - s).num_milliseconds().max(0) as f64 / 1e3);
            metrics::gauge!("antaeus_runs_oldest_running_age_seconds").set(age);
        }
        Err(err) => log::warn!(
            "metrics: reading the running runs failed: {}",
            one_line(&err)
        ),
    }
}

/// Per schedule of the built-in scheduler (when it is on): its last and next fire
/// (`antaeus_schedule_last_fire_timestamp_seconds`, `antaeus_schedule_next_fire_timestamp_seconds`)
/// and `antaeus_schedule_missed` (1 when the run its last fire names does not exist, for a fire
/// this instance answers for).
async fn scheduled_fires(metrics: &ServiceMetrics, now: DateTime<Utc>) {
    let Some(watch) = &metrics.schedules else {
        return;
    };
    for check in watch.check(now) {
        let name = check.name;
        if let Some(at) = check.last_fire {
            metrics::gauge!("antaeus_schedule_last_fire_timestamp_seconds", "schedule" => name)
                .set(unix_seconds(at));
        }
        if let Some(at) = check.next_fire {
            metrics::gauge!("antaeus_schedule_next_fire_timestamp_seconds", "schedule" => name)
                .set(unix_seconds(at));
        }
        let missed = match &check.expected_run {
            None => Ok(false),
            Some(key) => metrics.db.run_exists(key).await.map(|exists| !exists),
        };
        match missed {
            Ok(missed) => metrics::gauge!("antaeus_schedule_missed", "schedule" => name)
                .set(if missed { 1.0 } else { 0.0 }),
            Err(err) => log::warn!(
                "metrics: looking up a scheduled run failed: {}",
                one_line(&err)
            ),
        }
    }
}

/// `antaeus_invoices_failed_this_month` and `antaeus_invoices_paid_this_month`, from the
/// console's monthly totals (calendar month, UTC).
async fn this_month(metrics: &ServiceMetrics, now: DateTime<Utc>) {
    match metrics.db.monthly_stats(now).await {
        Ok(stats) => {
            let total = |metric| -> f64 {
                stats
                    .iter()
                    .filter(|s| s.metric == metric)
                    .map(|s| s.count as f64)
                    .sum()
            };
            metrics::gauge!("antaeus_invoices_failed_this_month").set(total(MonthlyMetric::Failed));
            metrics::gauge!("antaeus_invoices_paid_this_month")
                .set(total(MonthlyMetric::Collected));
        }
        Err(err) => log::warn!(
            "metrics: reading this month's totals failed: {}",
            one_line(&err)
        ),
    }
}
