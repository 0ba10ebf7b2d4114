use std::time::Duration;

use antaeus_core::store::StoreError;
use diesel::r2d2::{ConnectionManager, Pool};
use diesel::{Connection, PgConnection, SqliteConnection};

use crate::disk_space::explain_open_failure;
use crate::error::one_line;
use crate::pool::{Pools, SqlitePool, SqlitePragmas};
use crate::tls_hint::explain_tls_failure;
use crate::{Backend, DataError, DatabaseUrl};

/// Connection pool settings.
#[derive(Debug, Clone, Copy)]
pub struct PoolOptions {
    /// Most connections open at once.
    pub max_connections: u32,
    /// How long a caller waits for a free connection (or, with the database away, for a new
    /// one) before the store reports `Unavailable`. Default 3 s: short enough that an API
    /// request answers 503 before its caller gives up (an EventBridge API destination waits
    /// 5 s), long enough to ride out a busy pool.
    pub acquire_timeout: Duration,
    /// SQLite only: how long a writer waits for the write lock before failing.
    pub sqlite_busy_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            sqlite_busy_timeout: Duration::from_secs(10),
        }
    }
}

/// An open Antaeus database: a connection pool on SQLite or PostgreSQL. Cheap to clone.
///
/// Implements the store traits of `antaeus-core`; every call runs on tokio's blocking pool.
#[derive(Clone)]
pub struct Database {
    pub(crate) pools: Pools,
    url: DatabaseUrl,
    /// The deployment id, once read (see `deployment.rs`).
    pub(crate) deployment: std::sync::Arc<std::sync::OnceLock<String>>,
    /// Whether bulk creations are rolled back (see [`Database::into_dry_run`]).
    pub(crate) dry_run: bool,
    /// Where the next outbox take starts (see `billing/take_floor.rs`).
    pub(crate) outbox_floor: std::sync::Arc<crate::billing::TakeFloor>,
}

impl Database {
    /// Opens the database at `url`, checking at once that it can be reached (a bad path or host
    /// fails here, with the driver's reason, instead of on the first request).
    pub async fn connect(url: &DatabaseUrl, options: PoolOptions) -> Result<Self, DataError> {
        let url = url.clone();
        tokio::task::spawn_blocking(move || Self::connect_blocking(url, options))
            .await
            .map_err(|e| DataError::Store(StoreError::Failed(Box::new(e))))?
    }

    fn connect_blocking(url: DatabaseUrl, options: PoolOptions) -> Result<Self, DataError> {
        crate::openssl_init::init();
        let open_error = |reason: String| DataError::Open {
            url: url.redacted(),
            reason,
        };
        let pools = match &url {
            DatabaseUrl::Sqlite(file) => {
                if let crate::sqlite_init::Settings::TooLate { code } = crate::sqlite_init::init() {
                    log::debug!(
                        "SQLite keeps its default settings (sqlite3_config answered {code})"
                    );
                }
                let sqlite_error =
                    |e: &dyn std::error::Error| open_error(explain_open_failure(one_line(e), file));
                let path = file.to_string_lossy().into_owned();
                let pragmas = SqlitePragmas {
                    busy_timeout: options.sqlite_busy_timeout,
                };
                // One direct connection first: its error names the real problem, where the
                // pool would only report a timeout.
                let mut probe = crate::sqlite_init::open(&path).map_err(|e| sqlite_error(&e))?;
                pragmas.apply(&mut probe).map_err(|e| sqlite_error(&e))?;
                let pool = Pool::builder()
                    .max_size(options.max_connections)
                    .min_idle(Some(1))
                    .connection_timeout(options.acquire_timeout)
                    .connection_customizer(Box::new(pragmas))
                    .build(ConnectionManager::<SqliteConnection>::new(path.clone()))
                    .map_err(|e| sqlite_error(&e))?;
                Pools::Sqlite(SqlitePool::new(pool, &path, pragmas))
            }
            DatabaseUrl::Postgres(conn_url) => {
                PgConnection::establish(conn_url)
                    .map_err(|e| open_error(explain_tls_failure(one_line(&e), conn_url)))?;
                let pool = Pool::builder()
                    .max_size(options.max_connections)
                    .min_idle(Some(1))
                    .connection_timeout(options.acquire_timeout)
                    .build(ConnectionManager::<PgConnection>::new(conn_url.clone()))
                    .map_err(|e| open_error(one_line(&e)))?;
                Pools::Postgres(pool)
            }
        };
        Ok(Self {
            pools,
            url,
            deployment: Default::default(),
            dry_run: false,
            outbox_floor: Default::default(),
        })
    }

    /// This database for a dry run: bulk creations (`upsert_customers`, `create_invoices`)
    /// run in full, answer what they did, and are rolled back, so an import can report what
    /// it would do and write nothing. Other writes are unaffected; on PostgreSQL a rolled back
    /// insert still uses up the ids it took.
    pub fn into_dry_run(self) -> Self {
        Self {
            dry_run: true,
            ..self
        }
    }

    /// Which engine this database runs on.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The database URL, password redacted.
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Runs blocking diesel work on tokio's blocking pool.
    pub(crate) async fn run<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Pools) -> Result<T, StoreError> + Send + 'static,
    {
        let pools = self.pools.clone();
        tokio::task::spawn_blocking(move || work(&pools))
            .await
            .map_err(|e| StoreError::Failed(Box::new(e)))?
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("url", &self.url).finish()
    }
}
