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

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::migration::MigrationSource;
    use diesel::sqlite::Sqlite;
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    use diesel_migrations::MigrationHarness;

    use super::SQLITE_MIGRATIONS;

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Run {
        #[diesel(sql_type = diesel::sql_types::Text)]
        idempotency_key: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        triggered_by: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        paid: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        scope: String,
    }

    /// The console-trigger migration rebuilds `billing_runs` on SQLite: the runs already there
    /// come through it whole, and `console` is a trigger afterwards (and nothing else new is).
    #[test]
    fn rebuilding_the_runs_table_for_the_console_trigger_keeps_every_run() {
        let mut conn = SqliteConnection::establish(":memory:").unwrap();
        conn.batch_execute("PRAGMA foreign_keys = ON").unwrap();
        let migrations = MigrationSource::<Sqlite>::migrations(&SQLITE_MIGRATIONS).unwrap();
        let rebuild = migrations
            .iter()
            .position(|m| m.name().to_string().ends_with("_console_trigger"))
            .expect("the console-trigger migration");
        // Creates diesel's bookkeeping table.
        assert!(conn.applied_migrations().unwrap().is_empty());
        for m in &migrations[..rebuild] {
            conn.run_migration(m).unwrap();
        }
        conn.batch_execute(
            "INSERT INTO billing_runs (idempotency_key, triggered_by, status, instance_id, \
             started_at, paid, scope) \
             VALUES ('monthly', 'scheduler', 'COMPLETED', 'i-1', '2026-12-01 00:00:00', 7, 'all'), \
                    ('sweep', 'api', 'RUNNING', 'i-1', '2026-12-01 01:00:00', 0, 'retries')",
        )
        .unwrap();
        let before = conn
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|applied| applied.len())
            .unwrap();
        assert!(before >= 1);
        let runs: Vec<Run> = diesel::sql_query(
            "SELECT idempotency_key, triggered_by, paid, scope FROM billing_runs ORDER BY id",
        )
        .load(&mut conn)
        .unwrap();
        let run = |key: &str, by: &str, paid, scope: &str| Run {
            idempotency_key: key.into(),
            triggered_by: by.into(),
            paid,
            scope: scope.into(),
        };
        assert_eq!(
            runs,
            [
                run("monthly", "scheduler", 7, "all"),
                run("sweep", "api", 0, "retries")
            ]
        );
        conn.batch_execute(
            "INSERT INTO billing_runs (idempotency_key, triggered_by, status, instance_id, \
             started_at) VALUES ('from-console', 'console', 'RUNNING', 'i-1', '2026-12-02 00:00:00')",
        )
        .unwrap();
        let refused = conn.batch_execute(
            "INSERT INTO billing_runs (idempotency_key, triggered_by, status, instance_id, \
             started_at) VALUES ('bad', 'nobody', 'RUNNING', 'i-1', '2026-12-02 00:00:00')",
        );
        assert!(refused.is_err(), "the CHECK constraint is still there");
        let indexes: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
            "(SELECT count(*) FROM sqlite_master WHERE type = 'index' \
              AND name IN ('billing_runs_started_at', 'billing_runs_running'))",
        ))
        .get_result(&mut conn)
        .unwrap();
        assert_eq!(indexes, 2, "the runs' indexes are rebuilt with the table");
    }
}
