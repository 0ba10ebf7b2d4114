//! What a scenario measures about itself: per-invoice latency quantiles and peak memory.

use metrics_exporter_prometheus::PrometheusHandle;

/// p50 and p99 of the per-invoice time, in seconds, from the summary the recorder keeps.
pub(super) fn quantiles(handle: &PrometheusHandle) -> (f64, f64) {
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
pub(super) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident set size since the last reset, in MiB.
pub(super) fn peak_rss_mb() -> f64 {
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
