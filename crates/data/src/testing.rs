//! Test support: a fresh, migrated database per test, on SQLite or PostgreSQL.
//!
//! PostgreSQL tests read the server URL from `ANTAEUS_TEST_POSTGRES_URL` (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`), create a database of their own on it, and drop
//! it when done, so tests run in parallel without seeing each other's rows.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use antaeus_core::store::StoreError;
use antaeus_models::InstanceId;
use chrono::{NaiveDateTime, TimeDelta};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::error::store_error;
use crate::schema::{instances, invoices};
use crate::{Backend, Database, DatabaseUrl, PoolOptions, admin};

/// The environment variable naming the PostgreSQL server tests may use.
pub const POSTGRES_URL_VAR: &str = "ANTAEUS_TEST_POSTGRES_URL";

/// A migrated database that exists for one test and is removed when dropped.
pub struct TestDatabase {
    /// The open database.
    pub db: Database,
    /// Its URL, for tests that start processes against it.
    pub url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The temporary directory holding the SQLite file.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    /// The server URL and the name of the database to drop.
    Postgres { server_url: String, name: String },
    /// Another handle's database: left to that handle.
    Borrowed,
}

impl TestDatabase {
    /// A fresh database on `backend`, or `None` for PostgreSQL when
    /// `ANTAEUS_TEST_POSTGRES_URL` is not set (the test is then skipped with a note).
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Sqlite => Some(Self::sqlite().await),
            Backend::Postgres => Self::postgres().await,
        }
    }

    /// A fresh SQLite file in a temporary directory.
    pub async fn sqlite() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("antaeus-test-")
            .tempdir()
            .expect("create temporary directory");
        let url = DatabaseUrl::Sqlite(dir.path().join("antaeus-test.db"));
        let db = open(&url).await;
        Self {
            db,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A fresh database on the PostgreSQL server named by `ANTAEUS_TEST_POSTGRES_URL`.
    pub async fn postgres() -> Option<Self> {
        let Ok(server_url) = std::env::var(POSTGRES_URL_VAR) else {
            eprintln!("{POSTGRES_URL_VAR} is not set: skipping a PostgreSQL test");
            return None;
        };
        let name = unique_name();
        admin::recreate_database(&server_url, &name)
            .await
            .unwrap_or_else(|e| panic!("cannot create a test database ({POSTGRES_URL_VAR}): {e}"));
        let url = DatabaseUrl::Postgres(admin::with_database(&server_url, &name));
        let db = open(&url).await;
        Some(Self {
            db,
            url,
            cleanup: Cleanup::Postgres { server_url, name },
        })
    }
}

impl TestDatabase {
    /// A second handle on this database, as another instance opens it. Dropping it leaves the
    /// database alone; the first handle removes it, so keep that one alive longer.
    pub async fn another_handle(&self) -> Self {
        Self {
            db: open(&self.url).await,
            url: self.url.clone(),
            cleanup: Cleanup::Borrowed,
        }
    }

    /// The URL as `ANTAEUS_DATABASE_URL` takes it (unredacted).
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// Runs raw SQL (one or more statements), to arrange rows no store method writes, such as
    /// an outbox row whose payload a newer or broken writer left unreadable.
    pub async fn execute(&self, sql: &str) -> Result<(), StoreError> {
        let sql = sql.to_owned();
        self.db
            .run(move |pools| with_conn!(pools, |c| c.batch_execute(&sql).map_err(store_error)))
            .await
    }
}

impl TestDatabase {
    /// Makes `instance`'s last heartbeat `by` older, as if it had stopped beating that long
    /// ago (leases are judged by the store's clock, which tests cannot move).
    pub async fn age_heartbeat(&self, instance: &InstanceId, by: TimeDelta) {
        let id = instance.to_string();
        self.db
            .run(move |pools| {
                write_txn!(pools, |c| {
                    let beat: NaiveDateTime = instances::table
                        .find(&id)
                        .select(instances::heartbeat_at)
                        .first(c)?;
                    diesel::update(instances::table.find(&id))
                        .set(instances::heartbeat_at.eq(beat - by))
                        .execute(c)
                })
            })
            .await
            .expect("age the heartbeat");
    }
}

/// Makes every charge key sent so far `by` older, as if its first call had been made that long
/// ago (a key's age is judged by the store's clock, which tests cannot move).
pub async fn age_charge_keys(db: &Database, by: TimeDelta) {
    db.run(move |pools| {
        write_txn!(pools, |c| {
            let sent: Vec<(i64, NaiveDateTime)> = invoices::table
                .filter(invoices::key_sent_at.is_not_null())
                .select((invoices::id, invoices::key_sent_at.assume_not_null()))
                .load(c)?;
            for (id, at) in sent {
                diesel::update(invoices::table.find(id))
                    .set(invoices::key_sent_at.eq(at - by))
                    .execute(c)?;
            }
            Ok(())
        })
    })
    .await
    .expect("age the charge keys");
}

/// `PRAGMA integrity_check` on the SQLite file at `path`: `"ok"`, or SQLite's list of problems.
pub fn sqlite_integrity_check(path: &Path) -> String {
    #[derive(QueryableByName)]
    struct Check {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let mut conn = crate::sqlite_init::open(&path.to_string_lossy()).expect("open the SQLite file");
    let rows: Vec<Check> = diesel::sql_query("PRAGMA integrity_check")
        .load(&mut conn)
        .expect("run PRAGMA integrity_check");
    rows.into_iter()
        .map(|row| row.integrity_check)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { server_url, name } = &self.cleanup {
            admin::drop_database(server_url, name);
        }
    }
}

async fn open(url: &DatabaseUrl) -> Database {
    let options = PoolOptions {
        max_connections: 4,
        ..PoolOptions::default()
    };
    let db = Database::connect(url, options)
        .await
        .expect("open test database");
    db.migrate().await.expect("migrate test database");
    db
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "antaeus_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// Whether this process's SQLite connections run in multi-thread mode without memory
/// statistics (see `sqlite_init`): true once a `Database` has opened a SQLite file before
/// anything else opened SQLite.
pub fn sqlite_settings_applied() -> bool {
    crate::sqlite_init::init() == crate::sqlite_init::Settings::Applied
}

/// SQLite's count of the memory it holds: it stays 0 while its memory statistics are off.
pub fn sqlite_memory_used() -> i64 {
    // SAFETY: `sqlite3_memory_used` takes no argument and only reads SQLite's own counter.
    unsafe { libsqlite3_sys::sqlite3_memory_used() }
}
