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
    use diesel::migration::{Migration, MigrationSource};
    use diesel::{Connection, RunQueryDsl, SqliteConnection};
    use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

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

    /// Applies to `conn` every migration of `source` before the one whose name ends with
    /// `suffix`, on a database that has none yet; answers the migrations and that one's index.
    fn migrate_up_to<DB, C>(
        conn: &mut C,
        source: EmbeddedMigrations,
        suffix: &str,
    ) -> (Vec<Box<dyn Migration<DB>>>, usize)
    where
        DB: diesel::backend::Backend,
        C: MigrationHarness<DB>,
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let migrations = MigrationSource::<DB>::migrations(&source).unwrap();
        let position = migrations
            .iter()
            .position(|m| m.name().to_string().ends_with(suffix))
            .unwrap_or_else(|| panic!("no migration named *{suffix}"));
        // Creates diesel's bookkeeping table.
        assert!(conn.applied_migrations().unwrap().is_empty());
        for m in &migrations[..position] {
            conn.run_migration(m).unwrap();
        }
        (migrations, position)
    }

    /// The console-trigger migration rebuilds `billing_runs` on SQLite: the runs already there
    /// come through it whole, and `console` is a trigger afterwards (and nothing else new is).
    #[test]
    fn rebuilding_the_runs_table_for_the_console_trigger_keeps_every_run() {
        let mut conn = crate::sqlite_init::open(":memory:").unwrap();
        conn.batch_execute("PRAGMA foreign_keys = ON").unwrap();
        migrate_up_to(&mut conn, SQLITE_MIGRATIONS, "_console_trigger");
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

    /// One text column of a query, its rows in order.
    fn texts(conn: &mut SqliteConnection, sql: &str) -> Vec<String> {
        #[derive(diesel::QueryableByName)]
        struct Text {
            #[diesel(sql_type = diesel::sql_types::Text)]
            text: String,
        }
        diesel::sql_query(sql)
            .load::<Text>(conn)
            .unwrap()
            .into_iter()
            .map(|t| t.text)
            .collect()
    }

    /// Every invoice and every refund, whole and in id order, as text.
    const EVERY_ROW: &str = "SELECT json_group_array(json_array(id, customer_id, amount_minor, \
         currency, status, attempts, next_attempt_at, failure_reason, key_seq, declines, \
         unknown_streak, claimed_by, claimed_at, fence, external_id, due_at, description, \
         created_at, key_ns, key_sent_at, open_intent, payment_ref, refunded_minor, dispute_id, \
         dispute_status, dispute_reason, dispute_amount_minor, dispute_evidence_due_by, \
         extra_charges)) AS text FROM (SELECT * FROM invoices ORDER BY id) \
         UNION ALL \
         SELECT json_group_array(json_array(id, invoice_id, amount_minor, currency, reason, \
         status, origin, request_key, request_fingerprint, provider_key, provider_ref, \
         failure_reason, attempts, next_attempt_at, created_at, updated_at)) AS text \
         FROM (SELECT * FROM refunds ORDER BY id)";

    /// The invoices' indexes as created (`name: sql`; the UNIQUE constraint's has none), and
    /// the columns of the one that keeps external ids unique.
    fn invoice_indexes(conn: &mut SqliteConnection) -> (Vec<String>, Vec<String>) {
        let created = texts(
            conn,
            "SELECT name || ': ' || coalesce(sql, '') AS text FROM sqlite_master \
             WHERE type = 'index' AND tbl_name = 'invoices' ORDER BY name",
        );
        let unique = texts(
            conn,
            "SELECT ii.name AS text FROM pragma_index_list('invoices') il, \
             pragma_index_info(il.name) ii WHERE il.\"unique\" = 1 ORDER BY ii.seqno",
        );
        (created, unique)
    }

    /// Moving the external id first in the invoices' unique index rebuilds the table on
    /// SQLite: every invoice and refund comes through whole, foreign keys hold, the duplicate
    /// external-id index is gone and lookups by external id alone use the unique one; the way
    /// back restores the old shape with the same rows.
    #[test]
    fn putting_the_external_id_first_keeps_every_invoice_and_refund() {
        let mut conn = crate::sqlite_init::open(":memory:").unwrap();
        conn.batch_execute("PRAGMA foreign_keys = ON").unwrap();
        let (migrations, rebuild) =
            migrate_up_to(&mut conn, SQLITE_MIGRATIONS, "_invoice_external_id_first");
        conn.batch_execute(
            "INSERT INTO customers (id, currency, external_id) VALUES (1, 'EUR', 'c-1'), \
                 (2, 'EUR', 'c-2'); \
             INSERT INTO invoices (id, customer_id, amount_minor, currency, status, \
                 external_id, due_at, created_at, payment_ref, refunded_minor, key_ns) VALUES \
                 (1, 1, 1000, 'EUR', 'PAID', 'inv-1', '2026-12-01 00:00:00', \
                  '2026-11-30 00:00:00', 'pi_1', 300, 'abc'), \
                 (2, 2, 2000, 'EUR', 'PENDING', 'inv-1', '2026-12-01 00:00:00', \
                  '2026-11-30 00:00:00', NULL, 0, NULL), \
                 (3, 2, 3000, 'EUR', 'PENDING', NULL, '2026-12-01 00:00:00', \
                  '2026-11-30 00:00:00', NULL, 0, NULL); \
             INSERT INTO refunds (id, invoice_id, amount_minor, currency, reason, status, \
                 origin, request_key, request_fingerprint, provider_key, provider_ref, \
                 failure_reason, attempts, next_attempt_at, created_at, updated_at) VALUES \
                 (7, 1, 200, 'EUR', 'requested_by_customer', 'succeeded', 'api', 'key-1', \
                  'fp-1', 'refund-1', 're_1', NULL, 1, NULL, '2026-12-02 00:00:00', \
                  '2026-12-02 00:00:01'), \
                 (8, 1, 100, 'EUR', NULL, 'pending', 'provider', NULL, NULL, 'refund-2', \
                  NULL, 'card_declined', 2, '2026-12-03 00:00:00', '2026-12-02 00:00:00', \
                  '2026-12-02 00:00:02');",
        )
        .unwrap();
        let rows = texts(&mut conn, EVERY_ROW);
        let (names_before, unique_before) = invoice_indexes(&mut conn);
        assert_eq!(unique_before, ["customer_id", "external_id"]);

        conn.run_migration(&migrations[rebuild]).unwrap();
        assert_eq!(texts(&mut conn, EVERY_ROW), rows);
        assert!(
            texts(
                &mut conn,
                "SELECT 'x' AS text FROM pragma_foreign_key_check"
            )
            .is_empty()
        );
        let (names, unique) = invoice_indexes(&mut conn);
        assert_eq!(unique, ["external_id", "customer_id"]);
        let expected: Vec<String> = names_before
            .iter()
            .filter(|n| !n.starts_with("invoices_external_id:"))
            .cloned()
            .collect();
        assert_eq!(
            names, expected,
            "only the duplicate index is gone, the rest as they were"
        );
        #[derive(diesel::QueryableByName)]
        struct Step {
            #[diesel(sql_type = diesel::sql_types::Text)]
            detail: String,
        }
        let plan: Vec<String> = diesel::sql_query(
            "EXPLAIN QUERY PLAN SELECT id FROM invoices WHERE external_id = 'inv-1'",
        )
        .load::<Step>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|s| s.detail)
        .collect();
        assert!(
            plan.join("\n").contains("sqlite_autoindex_invoices"),
            "{plan:?}"
        );
        // Still unique per customer, and still the upsert's conflict target.
        let duplicate = conn.batch_execute(
            "INSERT INTO invoices (customer_id, amount_minor, currency, status, external_id) \
             VALUES (1, 5, 'EUR', 'PENDING', 'inv-1')",
        );
        assert!(duplicate.is_err(), "(external id, customer) stays unique");
        conn.batch_execute(
            "INSERT INTO invoices (customer_id, amount_minor, currency, status, external_id) \
             VALUES (1, 5, 'EUR', 'PENDING', 'inv-1') \
             ON CONFLICT (external_id, customer_id) DO NOTHING",
        )
        .unwrap();
        let refused = conn.batch_execute(
            "INSERT INTO refunds (invoice_id, amount_minor, currency, status, origin, \
             provider_key, created_at, updated_at) VALUES (99, 1, 'EUR', 'pending', 'api', \
             'refund-3', '2026-12-02 00:00:00', '2026-12-02 00:00:00')",
        );
        assert!(refused.is_err(), "refunds still reference invoices");

        conn.revert_last_migration(SQLITE_MIGRATIONS).unwrap();
        assert_eq!(texts(&mut conn, EVERY_ROW), rows);
        assert_eq!(invoice_indexes(&mut conn), (names_before, unique_before));
    }

    /// The same migration on PostgreSQL: the unique constraint takes the external id first,
    /// the duplicate index goes and nothing else changes; the way back restores both.
    #[test]
    fn postgres_puts_the_external_id_first_and_back() {
        use diesel::PgConnection;

        let Ok(server) = std::env::var(crate::testing::POSTGRES_URL_VAR) else {
            eprintln!(
                "{} is not set: skipping a PostgreSQL test",
                crate::testing::POSTGRES_URL_VAR
            );
            return;
        };
        let name = format!("antaeus_test_migrate_{}", std::process::id());
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(crate::admin::recreate_database(&server, &name))
            .unwrap();
        let mut conn =
            PgConnection::establish(&crate::admin::with_database(&server, &name)).unwrap();
        let (migrations, rebuild) = migrate_up_to(
            &mut conn,
            super::POSTGRES_MIGRATIONS,
            "_invoice_external_id_first",
        );
        let indexes = |conn: &mut PgConnection| -> Vec<String> {
            #[derive(diesel::QueryableByName)]
            struct Index {
                #[diesel(sql_type = diesel::sql_types::Text)]
                definition: String,
            }
            diesel::sql_query(
                "SELECT indexdef AS definition FROM pg_indexes \
                 WHERE tablename = 'invoices' ORDER BY indexname",
            )
            .load::<Index>(conn)
            .unwrap()
            .into_iter()
            .map(|i| i.definition)
            .collect()
        };
        let before = indexes(&mut conn);
        conn.run_migration(&migrations[rebuild]).unwrap();
        let after = indexes(&mut conn);
        let of_external_ids = |defs: &[String], wanted: bool| -> Vec<String> {
            defs.iter()
                .filter(|d| d.contains("external_id") == wanted)
                .cloned()
                .collect()
        };
        assert_eq!(
            of_external_ids(&before, true),
            [
                "CREATE UNIQUE INDEX invoices_customer_external_id ON public.invoices \
                 USING btree (customer_id, external_id)",
                "CREATE INDEX invoices_external_id ON public.invoices USING btree (external_id) \
                 WHERE (external_id IS NOT NULL)",
            ]
        );
        assert_eq!(
            of_external_ids(&after, true),
            [
                "CREATE UNIQUE INDEX invoices_external_id_customer ON public.invoices \
                 USING btree (external_id, customer_id)"
            ],
            "one index of external ids, the unique one, external id first"
        );
        assert_eq!(
            of_external_ids(&after, false),
            of_external_ids(&before, false)
        );
        conn.revert_last_migration(super::POSTGRES_MIGRATIONS)
            .unwrap();
        assert_eq!(indexes(&mut conn), before);
        drop(conn);
        crate::admin::drop_database(&server, &name);
    }
}
