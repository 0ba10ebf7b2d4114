//! Seeding, invariant checks and process helpers shared by the billing tests.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use antaeus_app::provider::{OutcomeMix, SimulatedPaymentProvider, SimulationProfile};
use antaeus_core::store::{AttemptStore, InvoiceStore};
use antaeus_data::testing::TestDatabase;
use antaeus_data::{Database, NewInvoice};
use antaeus_models::{
    AttemptOutcome, ChargeAttempt, Currency, Invoice, InvoiceFilter, InvoiceStatus, Money,
    PageLimit, PageRequest,
};

/// A request for the run named `key`.
pub fn run_request(
    key: impl Into<String>,
    trigger: antaeus_models::RunTrigger,
) -> antaeus_core::billing::RunRequest {
    antaeus_core::billing::RunRequest::new(
        antaeus_models::IdempotencyKey::parse(key).unwrap(),
        trigger,
        antaeus_models::RunScope::All,
    )
}

/// A mix with every kind of outcome, transient failures included.
pub fn hostile_mix() -> OutcomeMix {
    OutcomeMix::parse(
        "charged=60,declined=14,customer_not_found=2,currency_mismatch=2,network_error_before=8,network_error_after=8,timeout=6",
    )
    .unwrap()
}

/// A simulated provider with `mix` and a little latency.
pub fn simulated(mix: OutcomeMix, latency_ms: u64, seed: u64) -> Arc<SimulatedPaymentProvider> {
    Arc::new(SimulatedPaymentProvider::new(SimulationProfile {
        outcomes: mix,
        latency: Duration::from_millis(latency_ms),
        jitter: Duration::from_millis(latency_ms / 2),
        seed,
    }))
}

/// `n` customers with one PENDING invoice each; every 50th invoice is in a currency other than
/// its customer's (caught before any call).
pub async fn seed_due_invoices(db: &Database, n: usize) {
    let currencies: Vec<Currency> = (0..n)
        .map(|i| Currency::ALL[i % Currency::ALL.len()])
        .collect();
    let customers = db.insert_customers(currencies).await.unwrap();
    let invoices = customers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let currency = if i % 50 == 49 {
                Currency::ALL[(i + 1) % Currency::ALL.len()]
            } else {
                c.currency
            };
            NewInvoice {
                customer_id: c.id,
                amount: Money::from_minor(1_000 + i as i64, currency).unwrap(),
                status: InvoiceStatus::Pending,
            }
        })
        .collect();
    db.insert_invoices(invoices).await.unwrap();
}

/// Every invoice, page by page.
pub async fn all_invoices(db: &Database) -> Vec<Invoice> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = db
            .list_invoices(
                InvoiceFilter::default(),
                PageRequest {
                    after,
                    limit: PageLimit::new(1000).unwrap(),
                },
            )
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    all
}

/// What the checks found, for assertions on top of the invariants.
#[derive(Debug, Default)]
pub struct Census {
    /// Invoices by status.
    pub by_status: HashMap<InvoiceStatus, usize>,
    /// PENDING invoices whose last call's outcome is unknown (they resend the same key).
    pub unknown: usize,
    /// Attempt rows in the log.
    pub attempt_rows: u64,
    /// Of those, calls a takeover recorded as abandoned (its owner stalled past the lease):
    /// the stalled owner may never have made them.
    pub abandoned_rows: u64,
}

/// Asserts the billing invariants after runs have ended:
/// - no invoice was charged twice (the provider's ledger);
/// - every invoice is PAID, FAILED with a reason, or PENDING with a next attempt — none left
///   CHARGING, none untouched;
/// - a PAID invoice was charged exactly once; an invoice the provider charged is PAID, or
///   PENDING with its outcome unknown (its next run resends the same key);
/// - the log has a finished attempt row for every call, numbered 1..n, keys changing only
///   after a definitive outcome.
pub async fn assert_invariants(db: &Database, provider: &SimulatedPaymentProvider) -> Census {
    let ledger = provider.summary();
    assert!(
        ledger.double_charged.is_empty(),
        "charged twice: {:?}",
        ledger.double_charged
    );
    let mut census = Census::default();
    for invoice in all_invoices(db).await {
        *census.by_status.entry(invoice.status).or_default() += 1;
        let log = db.list_attempts(invoice.id).await.unwrap();
        census.attempt_rows += log.len() as u64;
        census.abandoned_rows += log
            .iter()
            .filter(|a| a.outcome == Some(AttemptOutcome::Abandoned))
            .count() as u64;
        let charges = provider.charges_of(invoice.id);
        let unknown = last_outcome_unknown(&log);
        match invoice.status {
            InvoiceStatus::Paid => assert_eq!(charges, 1, "{invoice:?}"),
            InvoiceStatus::Failed => {
                assert!(invoice.failure_reason.is_some(), "{invoice:?}");
                assert_eq!(charges, 0, "{invoice:?} {log:?}");
            }
            InvoiceStatus::Pending => {
                assert!(
                    invoice.next_attempt_at.is_some(),
                    "due invoice left unprocessed: {invoice:?}"
                );
                if unknown {
                    census.unknown += 1;
                    assert!(charges <= 1);
                } else {
                    assert_eq!(charges, 0, "{invoice:?} {log:?}");
                }
            }
            InvoiceStatus::Charging => panic!("left claimed: {invoice:?} {log:?}"),
            InvoiceStatus::Void => assert_eq!(charges, 0, "{invoice:?} {log:?}"),
        }
        assert_log_is_well_formed(&invoice, &log);
    }
    census
}

fn last_outcome_unknown(log: &[ChargeAttempt]) -> bool {
    log.last()
        .and_then(|a| a.outcome)
        .is_some_and(|o| !o.is_definitive())
}

fn assert_log_is_well_formed(invoice: &Invoice, log: &[ChargeAttempt]) {
    // Whatever was resent under a key, the provider decided it once.
    for attempt in log {
        let decided: std::collections::HashSet<_> = log
            .iter()
            .filter(|a| a.idempotency_key == attempt.idempotency_key)
            .filter_map(|a| a.outcome.filter(|o| o.is_definitive()))
            .collect();
        assert!(decided.len() <= 1, "one key, two decisions: {log:?}");
    }
    assert_eq!(log.len() as u32, invoice.attempts, "{invoice:?} {log:?}");
    for (n, attempt) in log.iter().enumerate() {
        assert_eq!(attempt.attempt_number, n as u32 + 1, "{log:?}");
        assert!(
            attempt.outcome.is_some() && attempt.finished_at.is_some(),
            "unfinished: {log:?}"
        );
        if n > 0 {
            let before = &log[n - 1];
            let definitive = before.outcome.is_some_and(AttemptOutcome::is_definitive);
            let changed = before.idempotency_key != attempt.idempotency_key;
            if definitive && !changed {
                // The one way a decided key is sent again: its instance stalled past the lease
                // before recording the answer, and the instance that took the claim over
                // resent the key (the provider replays the same answer; see below).
                assert_ne!(
                    before.instance_id, attempt.instance_id,
                    "a decided key was sent again, and not by a takeover: {log:?}"
                );
            } else {
                assert_eq!(
                    changed, definitive,
                    "a key may change only after a definitive outcome: {log:?}"
                );
            }
        }
    }
}

/// A fresh database of the backend named by the test module (`None`: PostgreSQL not configured).
pub async fn database(backend: antaeus_data::Backend) -> Option<TestDatabase> {
    TestDatabase::new(backend).await
}

/// For each name, a `sqlite::name` and a `postgres::name` test calling `name(backend)`.
#[macro_export]
macro_rules! billing_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(antaeus_data::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if std::env::var(antaeus_data::testing::POSTGRES_URL_VAR).is_ok() {
                        super::$name(antaeus_data::Backend::Postgres).await;
                    }
                }
            )*
        }
    };
}

/// Runs the simulated provider over HTTP on a free port; returns its base URL.
pub fn serve_provider(provider: Arc<SimulatedPaymentProvider>) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = antaeus_app::provider::serve_simulator(listener, provider, None).unwrap();
    tokio::spawn(server);
    url
}

/// The environment of an `antaeus bill` process on `db` charging through `provider_url`, with
/// short leases and retry delays so that tests take seconds.
pub fn bill_env(db: &TestDatabase, provider_url: &str) -> Vec<(&'static str, String)> {
    bill_env_at(db.url_string(), provider_url)
}

/// [`bill_env`] for the database at `database_url` (an `ANTAEUS_DATABASE_URL`).
pub fn bill_env_at(database_url: String, provider_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("ANTAEUS_DATABASE_URL", database_url),
        ("ANTAEUS_PAYMENT_PROVIDER", "http".into()),
        ("ANTAEUS_PAYMENT_PROVIDER_URL", provider_url.into()),
        ("ANTAEUS_PROVIDER_TIMEOUT_MS", "3000".into()),
        ("ANTAEUS_LEASE_TIMEOUT_S", "2".into()),
        ("ANTAEUS_RESEND_BASE_MS", "5".into()),
        ("ANTAEUS_RESEND_CAP_MS", "20".into()),
        ("ANTAEUS_UNKNOWN_RETRY_BASE_S", "1".into()),
        ("ANTAEUS_UNKNOWN_RETRY_CAP_S", "1".into()),
        ("ANTAEUS_CONCURRENCY", "32".into()),
        ("ANTAEUS_DB_POOL_SIZE", "4".into()),
        ("RUST_LOG", "error".into()),
    ]
}

/// An `antaeus bill` process with `env`, its output captured.
pub fn bill_process(env: &[(&'static str, String)]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_antaeus"));
    command
        .arg("bill")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs `antaeus bill` to the end and asserts it completed.
pub async fn bill_to_completion(env: &[(&'static str, String)]) {
    let output = bill_process(env).output().await.unwrap();
    assert!(
        output.status.success(),
        "antaeus bill failed: {}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `antaeus bill` until no outcome is left unknown (each unknown outcome is resent under
/// its key once its short retry delay has passed); returns the final census.
pub async fn settle(
    db: &Database,
    provider: &SimulatedPaymentProvider,
    env: &[(&'static str, String)],
) -> Census {
    for _ in 0..20 {
        bill_to_completion(env).await;
        let census = assert_invariants(db, provider).await;
        if census.unknown == 0 {
            return census;
        }
        tokio::time::sleep(Duration::from_millis(1_100)).await;
    }
    panic!("unknown outcomes never resolved");
}
