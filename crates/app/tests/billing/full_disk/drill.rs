//! The full-disk drill's setting: a seeded database alone on a tmpfs, filled up, and the
//! `antaeus bill` processes run on it.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::{Duration, Instant};

use antaeus_app::provider::{OutcomeMix, SimulatedPaymentProvider};
use antaeus_core::store::RunStore;
use antaeus_data::testing::sqlite_integrity_check;
use antaeus_data::{Database, DatabaseUrl, PoolOptions};
use antaeus_models::{BillingRun, InvoiceStatus, PageLimit, PageRequest, RunStatus};

use super::{DISK_MIB, FULL_DISK, INVOICES};
use crate::helpers::{
    bill_env_at, bill_process, seed_due_invoices, serve_provider, settle, simulated,
};
use crate::tmpfs::{Tmpfs, report_skipped};

/// A database of `INVOICES` due invoices alone on a tmpfs, and a simulated provider over
/// HTTP (its ledger is off the full disk).
pub(super) struct Drill {
    file: PathBuf,
    /// The provider `antaeus bill` charges over HTTP.
    pub(super) provider: Arc<SimulatedPaymentProvider>,
    env: Vec<(&'static str, String)>,
    // Last: unmounted once everything else has let go of it.
    disk: Tmpfs,
}

/// What the run on the full disk did, seen once space has returned.
pub(super) struct Stopped {
    /// The database, reopened after its integrity was checked.
    pub(super) db: Database,
    /// The line `antaeus bill` ended with.
    pub(super) line: String,
    /// How long that run took to give up.
    pub(super) took: Duration,
}

impl Drill {
    /// Fills the disk up to `room` free bytes and runs `antaeus bill`, which must fail with
    /// one line saying the disk is full; then frees the space and checks that the file is
    /// intact. `None` (and a SKIPPED line) where no tmpfs can be mounted.
    pub(super) async fn run_out_of_space(test: &str, room: u64) -> Option<(Self, Stopped)> {
        let disk = match Tmpfs::mount(DISK_MIB) {
            Ok(disk) => disk,
            Err(why) => {
                report_skipped(test, &why);
                return None;
            }
        };
        let file = disk.path().join("antaeus.db");
        let db = open(&file).await;
        db.migrate().await.unwrap();
        seed_due_invoices(&db, INVOICES).await;
        // Closed, as when `antaeus bill` runs from cron: the run must create the WAL itself.
        drop(db);
        disk.fill(room);
        let mix =
            OutcomeMix::parse("charged=80,declined=12,customer_not_found=3,network_error_after=5")
                .unwrap();
        let provider = simulated(mix, 5, 17);
        let url = format!("sqlite://{}", file.display());
        let mut env = bill_env_at(url, &serve_provider(provider.clone()));
        // A write the full disk refuses is retried for a second, not the default 30.
        env.push(("ANTAEUS_RECORD_RETRY_S", "1".into()));
        let drill = Self {
            file,
            provider,
            env,
            disk,
        };

        let began = Instant::now();
        let output = drill.bill().await;
        let took = began.elapsed();
        let line = assert_failed_on_full_disk(&output);
        drill.disk.free();
        assert_eq!(sqlite_integrity_check(&drill.file), "ok");
        let db = open(&drill.file).await;
        Some((drill, Stopped { db, line, took }))
    }

    /// Bills with space back until every outcome is known; asserts the invariants and that
    /// every run ended. Returns a summary for the figures.
    pub(super) async fn finish(&self, db: &Database) -> String {
        let began = Instant::now();
        let census = settle(db, &self.provider, &self.env).await;
        let ledger = self.provider.summary();
        let paid = census.by_status.get(&InvoiceStatus::Paid).copied();
        assert_eq!(paid.unwrap_or(0) as u64, ledger.charges);
        let runs = runs(db).await;
        assert!(
            runs.iter().all(|r| r.status != RunStatus::Running),
            "every run ended: {runs:?}"
        );
        format!(
            "{:?} in {:?} over {} runs, {} provider calls, {} charges",
            census.by_status,
            began.elapsed(),
            runs.len(),
            ledger.calls,
            ledger.charges
        )
    }

    /// Runs `antaeus bill` to its end.
    async fn bill(&self) -> Output {
        tokio::time::timeout(Duration::from_secs(60), bill_process(&self.env).output())
            .await
            .expect("antaeus bill ends on a full disk; it does not hang")
            .unwrap()
    }
}

/// Every billing run, newest first.
pub(super) async fn runs(db: &Database) -> Vec<BillingRun> {
    let page = PageRequest {
        after: None,
        limit: PageLimit::new(100).unwrap(),
    };
    db.list_runs(page).await.unwrap()
}

async fn open(file: &Path) -> Database {
    let options = PoolOptions {
        max_connections: 4,
        ..PoolOptions::default()
    };
    Database::connect(&DatabaseUrl::Sqlite(file.to_path_buf()), options)
        .await
        .unwrap()
}

/// Asserts that `antaeus bill` failed, without a panic, ending with one `error:` line that
/// says the disk is full; returns that line.
fn assert_failed_on_full_disk(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "a run on a full disk is not a success\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    assert_eq!(stderr.lines().last(), Some(errors[0]), "{stderr}");
    assert!(errors[0].contains(FULL_DISK), "{stderr}");
    errors[0].to_string()
}
