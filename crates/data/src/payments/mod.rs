//! The provider's later news about payments, stored: an invoice as settling reads it, one
//! settling write per news (fenced on the invoice as read, with the provider's event recorded
//! so that a redelivery changes nothing), and the payments that may still complete.

mod read;
mod write;

use antaeus_core::store::{
    HandledEvent, PaymentStore, PaymentView, PaymentWrite, PaymentWriteOutcome, StoreError,
};
use antaeus_models::InvoiceId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Database;

#[async_trait]
impl PaymentStore for Database {
    async fn deployment_id(&self) -> Result<String, StoreError> {
        Database::deployment_id(self).await
    }

    async fn payment_view(&self, id: InvoiceId) -> Result<Option<PaymentView>, StoreError> {
        self.run(move |pools| read::payment_view(pools, id)).await
    }

    async fn invoice_of_payment(&self, reference: &str) -> Result<Option<InvoiceId>, StoreError> {
        let reference = reference.to_owned();
        self.run(move |pools| read::invoice_of_payment(pools, &reference))
            .await
    }

    async fn write_payment(&self, write: &PaymentWrite) -> Result<PaymentWriteOutcome, StoreError> {
        let write = write.clone();
        self.run(move |pools| write::write_payment(pools, &write))
            .await
    }

    async fn note_event(
        &self,
        event: &HandledEvent,
        invoice: Option<InvoiceId>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let event = event.clone();
        self.run(move |pools| write::note_event(pools, &event, invoice, at))
            .await
    }

    async fn open_payments(
        &self,
        after: Option<InvoiceId>,
        limit: u32,
    ) -> Result<Vec<PaymentView>, StoreError> {
        self.run(move |pools| read::open_payments(pools, after, limit))
            .await
    }
}
