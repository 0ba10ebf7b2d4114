//! Connection pools per backend, and the macros that run one piece of diesel code on either.

use std::time::Duration;

use std::sync::{Arc, Mutex};

use antaeus_core::store::StoreError;
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PoolError, PooledConnection};
use diesel::{PgConnection, SqliteConnection};
use diesel::{QueryResult, RunQueryDsl};

/// A pool of connections to one database, SQLite or PostgreSQL.
#[derive(Clone)]
pub(crate) enum Pools {
    Sqlite(SqlitePool),
    Postgres(Pool<ConnectionManager<PgConnection>>),
}

/// SQLite connections for reads, and one dedicated connection for this process's writes.
///
/// SQLite admits one writer; a second one waits in its busy handler, which sleeps 1, 2, 5,
/// 10 … ms between tries. Queueing this process's writers on a mutex instead hands the
/// database over the moment it is free (the busy timeout still covers other processes). And
/// writing through one connection keeps its page cache warm: a connection that finds the
/// database changed by another connection starts its transaction with an empty cache.
#[derive(Clone)]
pub(crate) struct SqlitePool {
    pool: Pool<ConnectionManager<SqliteConnection>>,
    writer: Arc<Mutex<Option<SqliteConnection>>>,
    path: Arc<str>,
    pragmas: SqlitePragmas,
}

impl SqlitePool {
    pub(crate) fn new(
        pool: Pool<ConnectionManager<SqliteConnection>>,
        path: &str,
        pragmas: SqlitePragmas,
    ) -> Self {
        Self {
            pool,
            writer: Arc::new(Mutex::new(None)),
            path: path.into(),
            pragmas,
        }
    }

    /// A pooled connection (for reads).
    pub(crate) fn get(
        &self,
    ) -> Result<PooledConnection<ConnectionManager<SqliteConnection>>, PoolError> {
        self.pool.get()
    }

    /// Runs `work` in a `BEGIN IMMEDIATE` transaction on the writer connection, after this
    /// process's other writers.
    pub(crate) fn immediate<T>(
        &self,
        work: impl FnOnce(&mut SqliteConnection) -> QueryResult<T>,
    ) -> Result<QueryResult<T>, StoreError> {
        let mut writer = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        // The connection is out of the slot while it works: if `work` panics, unwinding drops
        // it (closing it rolls the open transaction back) and the next write opens a new one.
        let mut conn = match writer.take() {
            Some(conn) => conn,
            None => self.open_writer()?,
        };
        let result = conn.immediate_transaction(work);
        // An ordinary SQL error was rolled back and leaves the connection (and its warm page
        // cache) usable; anything else starts the next write from a fresh connection.
        if matches!(
            result,
            Ok(_)
                | Err(diesel::result::Error::DatabaseError(..))
                | Err(diesel::result::Error::RollbackTransaction)
        ) {
            *writer = Some(conn);
        }
        Ok(result)
    }

    fn open_writer(&self) -> Result<SqliteConnection, StoreError> {
        let mut conn = crate::sqlite_init::open(&self.path)
            .map_err(|e| StoreError::Unavailable(Box::new(e)))?;
        self.pragmas
            .apply(&mut conn)
            .map_err(crate::error::store_error)?;
        Ok(conn)
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

/// Runs `$body` as [`write_txn!`] does; when `$rollback` (a `bool`) is set, the transaction is
/// rolled back once the body has run, and the expression still evaluates to what the body
/// answered: a dry run, which checks and reports every row against the database as it is and
/// leaves nothing behind.
macro_rules! write_txn_or_dry_run {
    ($pools:expr, $rollback:expr, |$c:ident| $body:expr) => {{
        let mut kept = None;
        let written = write_txn!($pools, |$c| {
            let answer = $body?;
            if $rollback {
                kept = Some(answer);
                Err(::diesel::result::Error::RollbackTransaction)
            } else {
                Ok(answer)
            }
        });
        match kept {
            Some(answer) => Ok(answer),
            None => written,
        }
    }};
}

/// The page size of a new SQLite database, in bytes. SQLite's default of 4 KiB gives the
/// invoice table and its five indexes deeper B-trees, and more pages to split and balance as
/// they grow: a million invoices imported in 0.90 to 0.97x the time with 16 KiB pages.
pub(crate) const PAGE_SIZE: u32 = 16_384;

/// Bytes the write-ahead log may hold before a commit copies its pages back into the database:
/// 4 MiB, SQLite's default of 1,000 pages at its default page size, whatever the file's page
/// size. (At 1,000 pages of 16 KiB the log grew to 16 MiB between checkpoints, which a nearly
/// full disk may not have.)
const WAL_CHECKPOINT_BYTES: i64 = 4 << 20;

/// The file's page size, as SQLite reports it.
#[derive(diesel::QueryableByName)]
struct PageSize {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    page_size: i64,
}

/// Per-connection SQLite settings: WAL so readers never block the writer, a busy timeout so
/// writers queue instead of failing, and enforced foreign keys. A new database file is created
/// with 16 KiB pages (see [`PAGE_SIZE`]); an existing one keeps the size it was created with,
/// and either is checkpointed every [`WAL_CHECKPOINT_BYTES`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct SqlitePragmas {
    pub busy_timeout: Duration,
}

impl SqlitePragmas {
    pub(crate) fn apply(&self, conn: &mut SqliteConnection) -> diesel::QueryResult<()> {
        // busy_timeout first: switching to WAL needs a lock another connection may hold. The
        // page size before WAL: it only takes effect on a file not yet written, and switching
        // to WAL writes it.
        conn.batch_execute(&format!(
            "PRAGMA busy_timeout = {}; PRAGMA page_size = {PAGE_SIZE}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            self.busy_timeout.as_millis()
        ))?;
        let page_size = diesel::sql_query("PRAGMA page_size")
            .get_result::<PageSize>(conn)?
            .page_size
            .max(512);
        conn.batch_execute(&format!(
            "PRAGMA wal_autocheckpoint = {};",
            WAL_CHECKPOINT_BYTES / page_size
        ))
    }
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

#[cfg(test)]
mod tests {
    use diesel::RunQueryDsl;
    use diesel::sql_types::BigInt;

    use super::*;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    #[test]
    fn a_write_that_panics_releases_the_lock_and_the_next_write_succeeds() {
        let dir = std::env::temp_dir().join(format!("antaeus-writer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("writer.db").to_string_lossy().into_owned();
        let pragmas = SqlitePragmas {
            busy_timeout: Duration::from_millis(100),
        };
        crate::sqlite_init::init();
        let pool = Pool::builder()
            .max_size(2)
            .connection_customizer(Box::new(pragmas))
            .build(ConnectionManager::<SqliteConnection>::new(path.clone()))
            .unwrap();
        let pool = SqlitePool::new(pool, &path, pragmas);
        pool.immediate(|c| c.batch_execute("CREATE TABLE t (x INTEGER)"))
            .unwrap()
            .unwrap();

        let writer = pool.clone();
        let panicked = std::thread::spawn(move || {
            writer.immediate(|c| -> QueryResult<()> {
                c.batch_execute("INSERT INTO t VALUES (1)")?;
                panic!("a bug in the middle of a write")
            })
        })
        .join();
        assert!(panicked.is_err());

        // Another process's connection gets the write lock at once: nothing was left open.
        let mut other = crate::sqlite_init::open(&path).unwrap();
        other
            .batch_execute("PRAGMA busy_timeout = 0; INSERT INTO t VALUES (2)")
            .unwrap();
        // This process writes again, and the half-done insert was rolled back.
        pool.immediate(|c| c.batch_execute("INSERT INTO t VALUES (3)"))
            .unwrap()
            .unwrap();
        let rows: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM t")
            .get_result(&mut other)
            .unwrap();
        assert_eq!(rows.n, 2);
        drop(other);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_new_file_gets_16_kib_pages_and_an_existing_one_keeps_its_own() {
        #[derive(diesel::QueryableByName)]
        struct Checkpoint {
            #[diesel(sql_type = BigInt)]
            wal_autocheckpoint: i64,
        }
        let dir = std::env::temp_dir().join(format!("antaeus-pages-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pragmas = SqlitePragmas {
            busy_timeout: Duration::from_millis(100),
        };
        let page_size = |c: &mut SqliteConnection| {
            diesel::sql_query("PRAGMA page_size")
                .get_result::<PageSize>(c)
                .unwrap()
                .page_size
        };

        let checkpoint_bytes = |c: &mut SqliteConnection| {
            let pages = diesel::sql_query("PRAGMA wal_autocheckpoint")
                .get_result::<Checkpoint>(c)
                .unwrap()
                .wal_autocheckpoint;
            pages * page_size(c)
        };

        let new = dir.join("new.db").to_string_lossy().into_owned();
        let mut c = crate::sqlite_init::open(&new).unwrap();
        pragmas.apply(&mut c).unwrap();
        c.batch_execute("CREATE TABLE t (x INTEGER)").unwrap();
        assert_eq!(page_size(&mut c), i64::from(PAGE_SIZE));
        // The log still holds 4 MiB between checkpoints, as with 4 KiB pages.
        assert_eq!(checkpoint_bytes(&mut c), 4 << 20);

        let old = dir.join("old.db").to_string_lossy().into_owned();
        let mut c = crate::sqlite_init::open(&old).unwrap();
        c.batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)")
            .unwrap();
        drop(c);
        let mut c = crate::sqlite_init::open(&old).unwrap();
        pragmas.apply(&mut c).unwrap();
        assert_eq!(page_size(&mut c), 4_096, "SQLite's default, kept");
        assert_eq!(
            checkpoint_bytes(&mut c),
            4 << 20,
            "the same log between checkpoints"
        );
        c.batch_execute("INSERT INTO t VALUES (1)").unwrap();
        drop(c);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
