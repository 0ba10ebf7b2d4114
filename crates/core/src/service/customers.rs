use std::sync::Arc;

use antaeus_models::{Customer, CustomerId, PageRequest};

use super::ServiceError;
use crate::store::CustomerStore;

/// Looks up customers.
#[derive(Clone)]
pub struct CustomerService {
    store: Arc<dyn CustomerStore>,
}

impl CustomerService {
    /// A service reading from `store`.
    pub fn new(store: Arc<dyn CustomerStore>) -> Self {
        Self { store }
    }

    /// The customer with this id, or [`ServiceError::CustomerNotFound`].
    pub async fn fetch(&self, id: CustomerId) -> Result<Customer, ServiceError> {
        self.store
            .fetch_customer(id)
            .await?
            .ok_or(ServiceError::CustomerNotFound(id))
    }

    /// One page of customers, ordered by id.
    pub async fn list(&self, page: PageRequest<CustomerId>) -> Result<Vec<Customer>, ServiceError> {
        Ok(self.store.list_customers(page).await?)
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::Currency;

    use super::*;
    use crate::store::{MockCustomerStore, StoreError};

    fn id(n: i64) -> CustomerId {
        CustomerId::new(n).unwrap()
    }

    #[tokio::test]
    async fn fetch_returns_the_stored_customer() {
        let mut store = MockCustomerStore::new();
        store
            .expect_fetch_customer()
            .withf(|i| i.get() == 7)
            .returning(|i| Ok(Some(Customer::new(i, Currency::SEK))));
        let got = CustomerService::new(Arc::new(store)).fetch(id(7)).await;
        assert_eq!(got.unwrap().currency, Currency::SEK);
    }

    #[tokio::test]
    async fn fetch_of_an_unknown_id_is_customer_not_found() {
        let mut store = MockCustomerStore::new();
        store.expect_fetch_customer().returning(|_| Ok(None));
        let err = CustomerService::new(Arc::new(store))
            .fetch(id(9))
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::CustomerNotFound(i) if i == id(9)));
    }

    #[tokio::test]
    async fn storage_failures_surface_as_store_errors() {
        let mut store = MockCustomerStore::new();
        store
            .expect_list_customers()
            .returning(|_| Err(StoreError::Corrupt("bad row".into())));
        let err = CustomerService::new(Arc::new(store))
            .list(PageRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::Store(StoreError::Corrupt(_))));
    }
}
