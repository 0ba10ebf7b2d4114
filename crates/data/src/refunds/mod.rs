//! Refunds, stored: the intent recorded before the provider is asked (what is left reserved
//! under the invoice's row lock), the answer after, and refunds whose answer was lost, claimed
//! for asking again (a claim that dies with its process comes due again).

mod begin;
mod finish;
mod provider;
mod rows;

use antaeus_core::store::{
    HandledEvent, NewRefund, ProviderRefundNews, RefundEnd, RefundStart, RefundStore, RefundToSend,
    StoreError,
};
use antaeus_models::{InvoiceId, Refund, RefundId};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};

use crate::Database;

/// How long a refund being sent is held before it is due again, should its process die.
const SENDING_HOLD: TimeDelta = TimeDelta::minutes(10);

#[async_trait]
impl RefundStore for Database {
    async fn begin_refund(&self, request: &NewRefund) -> Result<RefundStart, StoreError> {
        let request = request.clone();
        let namespace = self.deployment_id().await?;
        self.run(move |pools| begin::begin_refund(pools, &request, &namespace))
            .await
    }

    async fn finish_refund(
        &self,
        id: RefundId,
        end: &RefundEnd,
        at: DateTime<Utc>,
    ) -> Result<Refund, StoreError> {
        let end = end.clone();
        self.run(move |pools| finish::finish_refund(pools, id, &end, at))
            .await
    }

    async fn list_refunds(&self, invoice: InvoiceId) -> Result<Vec<Refund>, StoreError> {
        self.run(move |pools| rows::list(pools, invoice)).await
    }

    async fn record_provider_refund(
        &self,
        event: &HandledEvent,
        invoice: InvoiceId,
        news: &ProviderRefundNews,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (event, news) = (event.clone(), news.clone());
        self.run(move |pools| provider::record_provider_refund(pools, &event, invoice, &news, at))
            .await
    }

    async fn due_refunds(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RefundToSend>, StoreError> {
        let namespace = self.deployment_id().await?;
        self.run(move |pools| begin::claim_due(pools, now, limit, &namespace))
            .await
    }
}
