//! How much room the database takes, for the benchmark's report.

use antaeus_core::store::StoreError;
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::BigInt;

use crate::error::store_error;
use crate::{Backend, Database};

#[derive(QueryableByName)]
struct Bytes {
    #[diesel(sql_type = BigInt)]
    bytes: i64,
}

impl Database {
    /// The database's size in bytes: SQLite's pages (those still in the write-ahead log
    /// included), or PostgreSQL's `pg_database_size` (indexes and dead rows included).
    pub async fn size_bytes(&self) -> Result<u64, StoreError> {
        let sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()"
            }
            Backend::Postgres => "SELECT pg_database_size(current_database()) AS bytes",
        };
        self.run(move |pools| {
            with_conn!(pools, |c| diesel::sql_query(sql)
                .get_result::<Bytes>(c)
                .map(|b| u64::try_from(b.bytes).unwrap_or(0))
                .map_err(store_error))
        })
        .await
    }
}
