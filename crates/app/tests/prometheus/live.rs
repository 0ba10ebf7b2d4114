//! A real Prometheus scrapes a running `antaeus serve` (SQLite) through one healthy run and one
//! run in a provider outage, then its HTTP API is asked: every dashboard query returns data,
//! every alert rule evaluates without error, and the alerts of the scenario are firing.
//!
//! The scenario: 40 invoices charged by a provider that answers `customer_not_found` to one call
//! in four (10 FAILED: 25% of the month's invoices); then 60 more invoices while the provider
//! answers only 429 and 503, so the breaker opens and the run is ABORTED after
//! `ANTAEUS_MAX_OUTAGE_S`; every event dies at its first failed delivery (the webhook receiver is
//! a closed port, `ANTAEUS_OUTBOX_MAX_FAILURES=1`).
//!
//! Prometheus loads the shipped rules with every `for:` set to 0s (see [`Prometheus::start`]):
//! the expressions are the shipped ones, but an alert fires as soon as its expression holds, so
//! the test need not outwait durations meant for production.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::deploy_files::dashboard_queries;
use crate::fake_provider::FakeProvider;
use crate::prometheus_server::Prometheus;
use crate::tools::{find, free_port, wait_until_ok};

/// The API token of the service under test.
const TOKEN: &str = "prometheus-test-token-0123456789";

/// Alerts that must be firing at the end.
const FIRING: [&str; 6] = [
    "AntaeusRunAborted",
    "AntaeusOutboxDeadEvents",
    "AntaeusCircuitBreakerOpen",
    "AntaeusProviderServerErrors",
    "AntaeusProviderRateLimited",
    "AntaeusInvoicesFailedShare",
];

/// Alerts that must stay quiet: the service is ready, its schedules' fires are not due, no run
/// lasts or is handed over, no dispute is open, the backlog is small.
const QUIET: [&str; 6] = [
    "AntaeusNotReady",
    "AntaeusScheduledRunMissed",
    "AntaeusRunRunningTooLong",
    "AntaeusRunHandedOverRepeatedly",
    "AntaeusDisputeOpen",
    "AntaeusOutboxBacklogGrowing",
];

/// Queries that hold after the scenario, and what each says.
const SCENARIO: [(&str, &str); 9] = [
    (
        "antaeus_invoices_paid_this_month == 30 and antaeus_invoices_failed_this_month == 10",
        "30 invoices paid and 10 FAILED this month",
    ),
    (
        "antaeus_charges_total{outcome=\"charged\"} == 30",
        "30 calls charged",
    ),
    (
        "antaeus_provider_responses_total{class=\"429\"} > 0 and ignoring(class) antaeus_provider_responses_total{class=\"5xx\"} > 0",
        "the outage's 429s and 503s are counted apart",
    ),
    (
        "antaeus_provider_responses_total{class=\"answered\"} == 40",
        "the healthy run's 40 answers",
    ),
    (
        "max_over_time(antaeus_circuit_breaker_state[5m]) == 2",
        "the breaker was seen open",
    ),
    (
        "antaeus_runs_completed_total{status=\"ABORTED\"} == 1 and ignoring(status) antaeus_runs_completed_total{status=\"COMPLETED\"} == 1",
        "one run completed, one aborted",
    ),
    ("antaeus_ready == 1", "the instance is ready"),
    (
        "count(antaeus_schedule_missed == 0) == 2",
        "both schedules are watched, and neither missed a fire",
    ),
    (
        "antaeus_outbox_dead_events > 0 and antaeus_runs_oldest_running_age_seconds == 0 and antaeus_disputes_open == 0",
        "events died, no run is left RUNNING, no dispute is open",
    ),
];

/// Dashboard queries allowed to return nothing here, and why.
const EMPTY_ALLOWED: [(&str, &str); 1] = [(
    "antaeus_provider_rate_limit_rps",
    "only the stripe provider is paced; this test charges through the http provider",
)];

/// The environment of every `antaeus` process of the test.
fn antaeus_env(database_url: &str, port: u16, provider_url: &str) -> Vec<(&'static str, String)> {
    let closed = free_port();
    vec![
        ("ANTAEUS_DATABASE_URL", database_url.to_owned()),
        ("ANTAEUS_HTTP_ADDR", format!("127.0.0.1:{port}")),
        ("ANTAEUS_API_TOKEN", TOKEN.to_owned()),
        ("ANTAEUS_PAYMENT_PROVIDER", "http".to_owned()),
        ("ANTAEUS_PAYMENT_PROVIDER_URL", provider_url.to_owned()),
        ("ANTAEUS_PROVIDER_TIMEOUT_MS", "2000".to_owned()),
        ("ANTAEUS_CONCURRENCY", "4".to_owned()),
        ("ANTAEUS_RESEND_BASE_MS", "5".to_owned()),
        ("ANTAEUS_RESEND_CAP_MS", "20".to_owned()),
        ("ANTAEUS_BREAKER_COOL_DOWN_S", "3".to_owned()),
        ("ANTAEUS_MAX_OUTAGE_S", "6".to_owned()),
        // Yearly schedules whose last fire is long past: the scheduler is on (its gauges are
        // exported) and none of its fires is due from this instance.
        ("ANTAEUS_SCHEDULE", "0 0 1 1 *".to_owned()),
        ("ANTAEUS_RETRY_SCHEDULE", "0 0 1 1 *".to_owned()),
        (
            "ANTAEUS_WEBHOOK_URL",
            format!("http://127.0.0.1:{closed}/events"),
        ),
        ("ANTAEUS_WEBHOOK_SECRET", "whsec-prometheus-test".to_owned()),
        ("ANTAEUS_WEBHOOK_TIMEOUT_MS", "500".to_owned()),
        ("ANTAEUS_OUTBOX_MAX_FAILURES", "1".to_owned()),
        ("ANTAEUS_SEED_DEMO_DATA", "off".to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
}

/// `antaeus <args>` with `env`, its output appended to `log`.
fn antaeus(args: &[&str], env: &[(&'static str, String)], log: &Path) -> tokio::process::Command {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_antaeus"));
    command
        .args(args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .kill_on_drop(true);
    command
}

/// Adds `customers` customers with one PENDING invoice each, by `antaeus seed`.
async fn seed(customers: u32, env: &[(&'static str, String)], log: &Path) {
    let n = customers.to_string();
    let status = antaeus(
        &["seed", "--customers", &n, "--invoices-per-customer", "1"],
        env,
        log,
    )
    .status()
    .await
    .unwrap();
    assert!(
        status.success(),
        "antaeus seed failed; see {}",
        log.display()
    );
}

/// The service's API.
struct Service {
    address: String,
    client: reqwest::Client,
}

impl Service {
    /// Sends `request` with the API token and returns its JSON answer.
    async fn send(&self, request: reqwest::RequestBuilder) -> Value {
        let response = request.header("x-api-key", TOKEN).send().await.unwrap();
        response.json().await.unwrap()
    }

    /// Starts a run and waits for it to end; returns the run.
    async fn bill(&self) -> Value {
        let runs = format!("{}/rest/v1/billing/runs", self.address);
        let run = self.send(self.client.post(&runs)).await;
        let id = run["id"].as_i64().unwrap_or_else(|| panic!("{run}"));
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            let run = self.send(self.client.get(format!("{runs}/{id}"))).await;
            if run["status"] != "RUNNING" {
                return run;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("run {id} did not end");
    }
}

/// Polls until `done` holds of Prometheus' answers, or fails with the last state seen.
async fn eventually<T: std::fmt::Debug>(
    what: &str,
    within: Duration,
    mut probe: impl AsyncFnMut() -> (bool, T),
) -> T {
    let deadline = Instant::now() + within;
    loop {
        let (done, seen) = probe().await;
        if done {
            return seen;
        }
        assert!(Instant::now() < deadline, "{what}; last seen: {seen:#?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_antaeus_answers_every_panel_evaluates_every_rule_and_fires_the_outage_alerts()
 {
    let test = "the live Prometheus test";
    let Some(prometheus_bin) = find("prometheus", test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("antaeus.log");
    let database_url = format!("sqlite://{}", dir.path().join("antaeus.db").display());
    let (provider, provider_url) = FakeProvider::start();
    let port = free_port();
    let env = antaeus_env(&database_url, port, &provider_url);

    // Phase 1: a provider that works, but does not know one customer in four.
    seed(40, &env, &log).await;
    let _serve = antaeus(&["serve"], &env, &log).spawn().unwrap();
    let service = Service {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
    };
    wait_until_ok(
        &service.client,
        &format!("{}/rest/health/ready", service.address),
        &log,
    )
    .await;
    let prometheus =
        Prometheus::start(&prometheus_bin, dir.path(), &format!("127.0.0.1:{port}")).await;
    eventually("the first scrape", Duration::from_secs(30), async || {
        let up = prometheus.query("up{job=\"antaeus\"} == 1").await;
        (!up.is_empty(), up)
    })
    .await;
    let healthy = service.bill().await;
    assert_eq!(healthy["status"], "COMPLETED", "{healthy}");

    // Phase 2: an outage: the breaker opens and the run is aborted.
    seed(60, &env, &log).await;
    provider.fail();
    let outage = service.bill().await;
    assert_eq!(outage["status"], "ABORTED", "{outage}");

    let alerts = eventually(
        "the outage's alerts are firing",
        Duration::from_secs(90),
        async || {
            let alerts = prometheus.alerts().await;
            let state = |name: &str| {
                alerts
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, s)| s.as_str())
            };
            let done = FIRING.iter().all(|a| state(a) == Some("firing"));
            (done, alerts)
        },
    )
    .await;
    for quiet in QUIET {
        assert!(
            !alerts.iter().any(|(name, _)| name == quiet),
            "{quiet} is active in a scenario that should not fire it: {alerts:?}"
        );
    }
    println!("active alerts: {alerts:?}");

    let rules = eventually(
        "every rule evaluated without error",
        Duration::from_secs(30),
        async || {
            let rules = prometheus.rules().await;
            (rules.iter().all(|(_, health, _)| health == "ok"), rules)
        },
    )
    .await;
    assert_eq!(rules.len(), 12, "{rules:?}");
    assert!(
        rules.iter().all(|(_, _, error)| error.is_empty()),
        "{rules:?}"
    );

    // What the scenario put into the metrics the alerts read, as Prometheus sees it.
    for (expr, what) in SCENARIO {
        let result = prometheus.query(expr).await;
        assert!(!result.is_empty(), "{what}: `{expr}` is false");
    }

    let mut empty_panels = Vec::new();
    for (panel, expr) in dashboard_queries() {
        let result = prometheus.query(&expr).await;
        let allowed = EMPTY_ALLOWED
            .iter()
            .find(|(metric, _)| expr.contains(metric));
        match (result.is_empty(), allowed) {
            (true, Some((_, why))) => println!("{panel}: `{expr}` returned nothing: {why}"),
            (true, None) => empty_panels.push(format!("{panel}: {expr}")),
            (false, _) => println!("{panel}: `{expr}` returned {} series", result.len()),
        }
    }
    assert!(
        empty_panels.is_empty(),
        "dashboard queries without data:\n{}",
        empty_panels.join("\n")
    );
}
