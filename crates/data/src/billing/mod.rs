//! The billing engine's storage: claims, the journal, runs, instances, the outbox and its events.

mod attempts;
mod backlog;
mod batch;
mod claim;
mod events;
mod inserts;
mod instances;
mod journal;
mod outbox;
mod rows;
mod run_gauges;
mod runs;
mod take_floor;

use antaeus_core::store::{
    Backlog, BillingStore, ClaimRequest, ClaimedInvoice, JournalEntry, RecordReport, StoreError,
};
use antaeus_models::{InstanceId, RunScope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Database;

pub(crate) use attempts::AttemptRow;
pub(crate) use events::EventRow;
pub(crate) use journal::outbox_row;
pub(crate) use take_floor::TakeFloor;

#[async_trait]
impl BillingStore for Database {
    async fn claim(&self, request: &ClaimRequest) -> Result<Vec<ClaimedInvoice>, StoreError> {
        let request = request.clone();
        let namespace = self.deployment_id().await?;
        self.run(move |pools| claim::claim(pools, &request, &namespace))
            .await
    }

    async fn record(
        &self,
        instance: &InstanceId,
        batch: &[JournalEntry],
    ) -> Result<RecordReport, StoreError> {
        let instance = instance.clone();
        let batch = batch.to_vec();
        self.run(move |pools| journal::record(pools, &instance, &batch))
            .await
    }

    async fn backlog(
        &self,
        now: DateTime<Utc>,
        instance: &InstanceId,
        scope: RunScope,
    ) -> Result<Backlog, StoreError> {
        let instance = instance.clone();
        self.run(move |pools| backlog::backlog(pools, now, &instance, scope))
            .await
    }
}
