//! Connection pools per backend, and the macros that run one piece of diesel code on either.

use std::time::Duration;

use std::sync::{Arc, Mutex};

use antaeus_core::store::StoreError;
use diesel::QueryResult;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PoolError, PooledConnection};
use diesel::{PgConnection, SqliteConnection};

/// A pool of connections to one database, SQLite or PostgreSQL.
#[derive(Clone)]
pub(crate) enum Pools {
    Sqlite(SqlitePool),
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

/// SQLite connections, and a lock that lets one of this process's writers in at a time.
///
/// SQLite admits one writer; a second one waits in its busy handler, which sleeps 1, 2, 5,
/// 10 … ms between tries. Queueing writers of the same process on a mutex instead hands the
/// database over the moment it is free (the busy timeout still covers other processes).
#[derive(Clone)]
pub(crate) struct SqlitePool {
    pool: Pool<ConnectionManager<SqliteConnection>>,
    writer: Arc<Mutex<()>>,
}

impl SqlitePool {
    pub(crate) fn new(pool: Pool<ConnectionManager<SqliteConnection>>) -> Self {
        Self {
            pool,
            writer: Arc::new(Mutex::new(())),
        }
    }

    /// A pooled connection (for reads).
    pub(crate) fn get(
        &self,
    ) -> Result<PooledConnection<ConnectionManager<SqliteConnection>>, PoolError> {
        self.pool.get()
    }

    /// Runs `work` in a `BEGIN IMMEDIATE` transaction, after this process's other writers.
    pub(crate) fn immediate<T>(
        &self,
        work: impl FnOnce(&mut SqliteConnection) -> QueryResult<T>,
    ) -> Result<QueryResult<T>, StoreError> {
        let mut conn = self.pool.get().map_err(crate::error::pool_unavailable)?;
        let _turn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        Ok(conn.immediate_transaction(work))
    }
}

/// Runs `$body` with `$c` bound to a pooled connection of whichever backend `$pools` holds.
///
/// The body is expanded once per backend, so it is ordinary diesel code type-checked against each
/// concrete connection. It must evaluate to `Result<T, StoreError>`.
macro_rules! with_conn {
    ($pools:expr, |$c:ident| $body:expr) => {
        match $pools {
            $crate::pool::Pools::Sqlite(pool) => {
                let mut pooled = pool.get().map_err($crate::error::pool_unavailable)?;
                let $c: &mut ::diesel::SqliteConnection = &mut pooled;
                $body
            }
            $crate::pool::Pools::Postgres(pool) => {
                let mut pooled = pool.get().map_err($crate::error::pool_unavailable)?;
                let $c: &mut ::diesel::PgConnection = &mut pooled;
                $body
            }
        }
    };
}

/// Runs `$body` inside a write transaction on a pooled connection; the body evaluates to
/// `diesel::QueryResult<T>` and the whole expression to `Result<T, StoreError>`.
///
/// SQLite takes the write lock up front (`BEGIN IMMEDIATE`): a deferred transaction that reads
/// and then writes can fail with "database is locked" without waiting for the busy timeout.
macro_rules! write_txn {
    ($pools:expr, |$c:ident| $body:expr) => {
        match $pools {
            $crate::pool::Pools::Sqlite(pool) => pool
                .immediate(|$c| $body)?
                .map_err($crate::error::store_error),
            $crate::pool::Pools::Postgres(pool) => {
                let mut pooled = pool.get().map_err($crate::error::pool_unavailable)?;
                let conn: &mut ::diesel::PgConnection = &mut pooled;
                ::diesel::Connection::transaction(conn, |$c| $body)
                    .map_err($crate::error::store_error)
            }
        }
    };
}

/// Per-connection SQLite settings: WAL so readers never block the writer, a busy timeout so
/// writers queue instead of failing, and enforced foreign keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqlitePragmas {
    pub busy_timeout: Duration,
}

impl SqlitePragmas {
    pub(crate) fn apply(&self, conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
        // busy_timeout first: switching to WAL needs a lock another connection may hold.
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            self.busy_timeout.as_millis()
        ))
    }
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}
