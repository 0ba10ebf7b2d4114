//! Whether PostgreSQL cleans up after billing: checked when a process opens the database.
//!
//! Billing on PostgreSQL leaves a dead row version behind every claim, payment and delivered
//! event, and an entry for each in the indexes that find work (`invoices_fresh`, `outbox_due`).
//! Autovacuum removes them as it goes. On a server that runs without it they pile up for good:
//! before the outbox take started at a floor (`billing/take_floor.rs`), it read 69,459 pages to
//! find 500 events at six million invoices, and billing fell from 9.8k to 3.2k invoices a second;
//! the floor's full walks and the backlog count still read all of them.

use antaeus_core::store::StoreError;
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::Bool;

use crate::error::store_error;
use crate::{Backend, Database};

#[derive(QueryableByName)]
struct Off {
    #[diesel(sql_type = Bool)]
    off: bool,
}

/// True when the server's autovacuum is off (or `track_counts`, without which it never starts),
/// or when it is turned off (in any of PostgreSQL's spellings of false) for one of the tables
/// billing churns (`invoices`, `outbox`) in this database's schema.
const AUTOVACUUM_OFF: &str = "SELECT \
        (SELECT setting = 'off' FROM pg_settings WHERE name = 'autovacuum') \
        OR (SELECT setting = 'off' FROM pg_settings WHERE name = 'track_counts') \
        OR EXISTS (SELECT 1 FROM pg_class c \
            JOIN pg_namespace n ON n.oid = c.relnamespace \
            CROSS JOIN LATERAL pg_options_to_table(c.reloptions) o \
            WHERE n.nspname = current_schema() \
              AND c.relname IN ('invoices', 'outbox') \
              AND o.option_name = 'autovacuum_enabled' \
              AND NOT o.option_value::bool) AS off";

impl Database {
    /// Whether dead row versions are left for good: PostgreSQL's autovacuum is off on the
    /// server, or for the `invoices` or `outbox` table. Always `false` on SQLite, which has no
    /// dead row versions (a deleted index entry is gone at once).
    pub async fn autovacuum_off(&self) -> Result<bool, StoreError> {
        if self.backend() == Backend::Sqlite {
            return Ok(false);
        }
        self.run(|pools| {
            with_conn!(pools, |c| diesel::sql_query(AUTOVACUUM_OFF)
                .get_result::<Off>(c)
                .map(|row| row.off)
                .map_err(store_error))
        })
        .await
    }
}
