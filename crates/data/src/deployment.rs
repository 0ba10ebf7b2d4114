//! This database's deployment id: made once by a migration, in every charge key and in the
//! provider's metadata, so that two deployments charging through one provider account (staging
//! beside production, a restored copy) never send the same key. Read once and kept.

use antaeus_core::store::StoreError;
use diesel::prelude::*;

use crate::Database;
use crate::schema::deployment;

impl Database {
    /// The deployment id, read from the database the first time and kept.
    pub async fn deployment_id(&self) -> Result<String, StoreError> {
        if let Some(id) = self.deployment.get() {
            return Ok(id.clone());
        }
        let id = self
            .run(|pools| {
                with_conn!(pools, |c| deployment::table
                    .select(deployment::id)
                    .first::<String>(c)
                    .map_err(crate::error::store_error))
            })
            .await?;
        Ok(self.deployment.get_or_init(|| id).clone())
    }

    /// Gives this database a new deployment id (a copy restored beside the original must not
    /// share its keys); keys already sent keep the id they were sent with. The new id is used
    /// by processes started after this.
    pub async fn renew_deployment_id(&self) -> Result<String, StoreError> {
        let id = new_id();
        let stored = id.clone();
        self.run(move |pools| {
            write_txn!(pools, |c| diesel::update(deployment::table)
                .set(deployment::id.eq(&stored))
                .execute(c))
        })
        .await?;
        Ok(id)
    }
}

/// Twelve random hex digits, as the migration makes them.
fn new_id() -> String {
    let bytes: [u8; 6] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
