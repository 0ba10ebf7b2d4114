//! Schema migrations, embedded in the binary and applied at start-up.

use diesel::{Connection, PgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::one_line;
use crate::pool::Pools;
use crate::{DataError, Database, DatabaseUrl};

pub(crate) const SQLITE_MIGRATIONS: EmbeddedMigrations =
    embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Arbitrary but fixed key of the PostgreSQL advisory lock that serialises migrations when
/// several instances start at once.
const MIGRATION_LOCK_KEY: i64 = 0x0061_6e74_6165_7573;

impl Database {
    /// Applies every pending migration; a no-op on an up-to-date database. Returns how many ran.
    pub async fn migrate(&self) -> Result<usize, DataError> {
        let url = self.url().redacted();
        let fail = move |reason: String| DataError::Migrate {
            url: url.clone(),
            reason,
        };
        let db_url = self.url().clone();
        self.run(move |pools| Ok(run_pending(pools, &db_url)))
            .await
            .map_err(DataError::Store)?
            .map_err(fail)
    }

    /// Whether every embedded migration has been applied (for readiness checks).
    pub async fn is_migrated(&self) -> Result<bool, DataError> {
        let url = self.url().redacted();
        self.run(|pools| {
            Ok(match pools {
                Pools::Sqlite(pool) => pool.get().map_err(|e| one_line(&e)).and_then(|mut c| {
                    c.has_pending_migration(SQLITE_MIGRATIONS)
                        .map_err(|e| one_line(&*e))
                }),
                Pools::Postgres(pool) => pool.get().map_err(|e| one_line(&e)).and_then(|mut c| {
                    c.has_pending_migration(POSTGRES_MIGRATIONS)
                        .map_err(|e| one_line(&*e))
                }),
            })
        })
        .await?
        .map(|pending| !pending)
        .map_err(|reason| DataError::Migrate { url, reason })
    }
}

fn run_pending(pools: &Pools, url: &DatabaseUrl) -> Result<usize, String> {
    match (pools, url) {
        (Pools::Postgres(_), DatabaseUrl::Postgres(conn_url)) => {
            // A dedicated session, closed afterwards, so the advisory lock can never leak into
            // the pool even if unlocking fails.
            let mut conn = PgConnection::establish(conn_url).map_err(|e| one_line(&e))?;
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(&mut conn)
                .map_err(|e| one_line(&e))?;
            let applied = conn
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|applied| applied.len())
                .map_err(|e| one_line(&*e));
            let _ = diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(&mut conn);
            applied
        }
        (Pools::Sqlite(pool), _) => {
            let mut conn = pool.get().map_err(|e| one_line(&e))?;
            let applied = conn
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map_err(|e| one_line(&*e))?;
            Ok(applied.len())
        }
        (Pools::Postgres(_), DatabaseUrl::Sqlite(_)) => {
            Err("internal error: PostgreSQL pool with a SQLite URL".into())
        }
    }
}
