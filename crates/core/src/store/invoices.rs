use antaeus_models::{Invoice, InvoiceFilter, InvoiceId, PageRequest};
use async_trait::async_trait;

use super::StoreError;

/// Reads invoices.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait InvoiceStore: Send + Sync {
    /// The invoice with this id, if any.
    async fn fetch_invoice(&self, id: InvoiceId) -> Result<Option<Invoice>, StoreError>;

    /// One page of the invoices that match `filter`, ordered by id.
    async fn list_invoices(
        &self,
        filter: InvoiceFilter,
        page: PageRequest<InvoiceId>,
    ) -> Result<Vec<Invoice>, StoreError>;
}
