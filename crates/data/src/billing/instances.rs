//! [`InstanceStore`]: heartbeats of the instances driving runs.

use antaeus_core::store::{InstanceStore, StoreError};
use antaeus_models::InstanceId;
use async_trait::async_trait;
use diesel::prelude::*;

use crate::Database;
use crate::schema::instances;

/// Upserts the heartbeat of instance `$id` at the store's clock on connection `$c` (inside a
/// query closure returning `QueryResult`).
macro_rules! heartbeat {
    ($c:ident, $id:expr) => {{
        let now = $crate::store_clock::StoreClock::store_now($c)?;
        diesel::insert_into($crate::schema::instances::table)
            .values((
                $crate::schema::instances::id.eq($id),
                $crate::schema::instances::started_at.eq(now),
                $crate::schema::instances::heartbeat_at.eq(now),
            ))
            .on_conflict($crate::schema::instances::id)
            .do_update()
            .set(
                $crate::schema::instances::heartbeat_at.eq(diesel::upsert::excluded(
                    $crate::schema::instances::heartbeat_at,
                )),
            )
            .execute($c)?
    }};
}
pub(crate) use heartbeat;

#[async_trait]
impl InstanceStore for Database {
    async fn heartbeat(&self, instance: &InstanceId) -> Result<(), StoreError> {
        let id = instance.to_string();
        self.run(move |pools| {
            write_txn!(pools, |c| {
                heartbeat!(c, id.as_str());
                Ok(())
            })
        })
        .await
    }

    async fn retire(&self, instance: &InstanceId) -> Result<(), StoreError> {
        let id = instance.to_string();
        self.run(move |pools| {
            write_txn!(pools, |c| diesel::delete(instances::table.find(&id))
                .execute(c)
                .map(|_| ()))
        })
        .await
    }
}
