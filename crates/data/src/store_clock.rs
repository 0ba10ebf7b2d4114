//! The store's clock. Leases (the heartbeats instances write, and the cut-off that makes a
//! claim or a run stale) are written and judged with this one clock, never with the clocks of
//! the instances: an instance whose clock runs ahead would otherwise take live claims over,
//! and one running behind would keep dead ones alive.
//!
//! PostgreSQL: the server's clock (`now()`, the start of the transaction). SQLite is embedded,
//! so the database's clock is the clock of the machine that holds the file, which every
//! process using the file shares.

use chrono::{NaiveDateTime, TimeDelta, Utc};
use diesel::{PgConnection, QueryResult, RunQueryDsl, SqliteConnection};

use crate::time::to_db;

/// Reads the store's clock on a connection.
pub(crate) trait StoreClock {
    /// The store's current time, as stored (UTC, microseconds).
    fn store_now(&mut self) -> QueryResult<NaiveDateTime>;

    /// The oldest heartbeat still live under `lease`: a heartbeat older than this is stale.
    fn lease_cutoff(&mut self, lease: TimeDelta) -> QueryResult<NaiveDateTime> {
        Ok(self.store_now()? - lease)
    }
}

impl StoreClock for SqliteConnection {
    fn store_now(&mut self) -> QueryResult<NaiveDateTime> {
        Ok(to_db(Utc::now()))
    }
}

#[derive(diesel::QueryableByName)]
struct NowRow {
    #[diesel(sql_type = diesel::sql_types::Timestamp)]
    now: NaiveDateTime,
}

impl StoreClock for PgConnection {
    fn store_now(&mut self) -> QueryResult<NaiveDateTime> {
        diesel::sql_query("SELECT timezone('UTC', now()) AS now")
            .get_result::<NowRow>(self)
            .map(|row| row.now)
    }
}
