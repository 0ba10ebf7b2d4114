use antaeus_models::{Customer, CustomerId, PageRequest};
use async_trait::async_trait;

use super::StoreError;

/// Reads customers.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait CustomerStore: Send + Sync {
    /// The customer with this id, if any.
    async fn fetch_customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError>;

    /// One page of customers, ordered by id.
    async fn list_customers(
        &self,
        page: PageRequest<CustomerId>,
    ) -> Result<Vec<Customer>, StoreError>;
}
