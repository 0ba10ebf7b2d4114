//! What `/metrics` reads about runs at each scrape, each one indexed lookup: the start of the
//! oldest RUNNING run (the partial index `billing_runs_running`) and whether a run with a given
//! key exists (the key's unique index).

use antaeus_core::store::StoreError;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::dsl::{exists, min};
use diesel::prelude::*;

use crate::Database;
use crate::error::store_error;
use crate::schema::billing_runs;
use crate::time::from_db;

impl Database {
    /// When the oldest run still RUNNING started; `None` when no run is RUNNING.
    pub async fn oldest_running_run_start(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let oldest: Option<NaiveDateTime> = self
            .run(|pools| {
                with_conn!(pools, |c| billing_runs::table
                    .filter(billing_runs::status.eq("RUNNING"))
                    .select(min(billing_runs::started_at))
                    .first(c)
                    .map_err(store_error))
            })
            .await?;
        Ok(oldest.map(from_db))
    }

    /// Whether a run named `key` exists (a scheduled fire's run is named by its fire time).
    pub async fn run_exists(&self, key: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.run(move |pools| {
            with_conn!(pools, |c| diesel::select(exists(
                billing_runs::table.filter(billing_runs::idempotency_key.eq(&key))
            ))
            .get_result(c)
            .map_err(store_error))
        })
        .await
    }
}
