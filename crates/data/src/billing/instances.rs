//! [`InstanceStore`]: heartbeats of the instances driving runs.

use antaeus_core::store::{InstanceStore, StoreError};
use antaeus_models::InstanceId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::Database;
use crate::error::store_error;
use crate::schema::instances;
use crate::time::to_db;

#[async_trait]
impl InstanceStore for Database {
    async fn heartbeat(&self, instance: &InstanceId, now: DateTime<Utc>) -> Result<(), StoreError> {
        let id = instance.to_string();
        let now = to_db(now);
        self.run(move |pools| {
            with_conn!(pools, |c| diesel::insert_into(instances::table)
                .values((
                    instances::id.eq(&id),
                    instances::started_at.eq(now),
                    instances::heartbeat_at.eq(now),
                ))
                .on_conflict(instances::id)
                .do_update()
                .set(instances::heartbeat_at.eq(excluded(instances::heartbeat_at)))
                .execute(c)
                .map(|_| ())
                .map_err(store_error))
        })
        .await
    }

    async fn retire(&self, instance: &InstanceId) -> Result<(), StoreError> {
        let id = instance.to_string();
        self.run(move |pools| {
            with_conn!(pools, |c| diesel::delete(instances::table.find(&id))
                .execute(c)
                .map(|_| ())
                .map_err(store_error))
        })
        .await
    }
}
