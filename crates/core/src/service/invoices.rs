use std::sync::Arc;

use antaeus_models::{Invoice, InvoiceFilter, InvoiceId, PageRequest};

use super::ServiceError;
use crate::store::InvoiceStore;

/// Looks up invoices.
#[derive(Clone)]
pub struct InvoiceService {
    store: Arc<dyn InvoiceStore>,
}

impl InvoiceService {
    /// A service reading from `store`.
    pub fn new(store: Arc<dyn InvoiceStore>) -> Self {
        Self { store }
    }

    /// The invoice with this id, or [`ServiceError::InvoiceNotFound`].
    pub async fn fetch(&self, id: InvoiceId) -> Result<Invoice, ServiceError> {
        self.store
            .fetch_invoice(id)
            .await?
            .ok_or(ServiceError::InvoiceNotFound(id))
    }

    /// One page of the invoices matching `filter`, ordered by id.
    pub async fn list(
        &self,
        filter: InvoiceFilter,
        page: PageRequest<InvoiceId>,
    ) -> Result<Vec<Invoice>, ServiceError> {
        Ok(self.store.list_invoices(filter, page).await?)
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId, InvoiceStatus, Money, PageLimit};

    use super::*;
    use crate::store::MockInvoiceStore;

    fn invoice(id: i64) -> Invoice {
        Invoice::new(
            InvoiceId::new(id).unwrap(),
            CustomerId::new(1).unwrap(),
            Money::from_minor(1000, Currency::EUR).unwrap(),
            InvoiceStatus::Pending,
        )
    }

    #[tokio::test]
    async fn fetch_of_an_unknown_id_is_invoice_not_found() {
        let mut store = MockInvoiceStore::new();
        store.expect_fetch_invoice().returning(|_| Ok(None));
        let err = InvoiceService::new(Arc::new(store))
            .fetch(InvoiceId::new(3).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::InvoiceNotFound(i) if i.get() == 3));
    }

    #[tokio::test]
    async fn list_passes_filter_and_page_to_the_store() {
        let filter = InvoiceFilter {
            status: Some(InvoiceStatus::Pending),
            customer_id: Some(CustomerId::new(4).unwrap()),
        };
        let page = PageRequest {
            after: Some(InvoiceId::new(10).unwrap()),
            limit: PageLimit::new(2).unwrap(),
        };
        let mut store = MockInvoiceStore::new();
        store
            .expect_list_invoices()
            .withf(move |f, p| *f == filter && *p == page)
            .returning(|_, _| Ok(vec![invoice(11), invoice(12)]));
        let got = InvoiceService::new(Arc::new(store))
            .list(filter, page)
            .await
            .unwrap();
        assert_eq!(got.iter().map(|i| i.id.get()).collect::<Vec<_>>(), [11, 12]);
    }
}
