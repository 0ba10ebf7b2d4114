//! A fresh database per scenario: a SQLite file in a temporary directory, or a PostgreSQL
//! database created on the benchmark server and dropped afterwards.

use antaeus_data::admin;
use antaeus_data::{Database, DatabaseUrl, PoolOptions};
use anyhow::Context;

/// Which store a scenario runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BenchStore {
    /// A SQLite file.
    Sqlite,
    /// A database on the PostgreSQL server at this URL.
    Postgres(String),
}

impl BenchStore {
    /// `sqlite` or `postgres`.
    pub fn name(&self) -> &'static str {
        match self {
            BenchStore::Sqlite => "sqlite",
            BenchStore::Postgres(_) => "postgres",
        }
    }
}

/// An open, migrated, empty database that is removed when dropped.
pub struct FreshDatabase {
    /// The database.
    pub db: Database,
    _dir: Option<TempDir>,
    drop_on: Option<(String, String)>,
}

impl FreshDatabase {
    /// Creates the database for `store`, with `connections` pooled connections.
    pub async fn create(store: &BenchStore, connections: u32) -> anyhow::Result<Self> {
        let options = PoolOptions {
            max_connections: connections,
            ..PoolOptions::default()
        };
        let (url, dir, drop_on) = match store {
            BenchStore::Sqlite => {
                let dir = TempDir::new()?;
                let url = DatabaseUrl::Sqlite(dir.path.join("bench.db"));
                (url, Some(dir), None)
            }
            BenchStore::Postgres(server) => {
                let name = format!("antaeus_bench_{}", std::process::id());
                admin::recreate_database(server, &name).await?;
                let url = DatabaseUrl::Postgres(admin::with_database(server, &name));
                (url, None, Some((server.clone(), name)))
            }
        };
        let db = Database::connect(&url, options).await?;
        db.migrate()
            .await
            .context("cannot migrate the benchmark database")?;
        crate::startup::warn_if_autovacuum_off(&db).await;
        Ok(Self {
            db,
            _dir: dir,
            drop_on,
        })
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = &self.drop_on {
            admin::drop_database(server, name);
        }
    }
}

/// A temporary directory under `target/bench/tmp`, removed on drop.
struct TempDir {
    path: std::path::PathBuf,
}

impl TempDir {
    fn new() -> anyhow::Result<Self> {
        let path = std::env::current_dir()?
            .join("target/bench/tmp")
            .join(format!("run-{}", std::process::id()));
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self { path })
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
