use antaeus_models::{Customer, CustomerId, ExternalId, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{
    Creation, CustomerChanges, CustomerUpdate, CustomerUpsert, KeyedRequest, NewCustomer,
    StoreError, Upserted,
};

/// Reads, creates and updates customers.
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

    /// The customer with this external id, if any.
    async fn find_customer(&self, external_id: &ExternalId)
    -> Result<Option<Customer>, StoreError>;

    /// Creates the customer, in one transaction with its idempotency key (when `keyed`): a
    /// customer with the same external id is found instead (`Existing`, fields as stored), and
    /// a key used before answers what its request did (`Replayed`) or `KeyReused`.
    async fn create_customer(
        &self,
        customer: &NewCustomer,
        keyed: Option<KeyedRequest>,
        now: DateTime<Utc>,
    ) -> Result<Creation<Customer>, StoreError>;

    /// Applies `changes` to customer `id`, atomically; a currency change is refused while the
    /// customer has invoices (checked in the same transaction, so no invoice slips in).
    async fn update_customer(
        &self,
        id: CustomerId,
        changes: &CustomerChanges,
    ) -> Result<CustomerUpdate, StoreError>;

    /// Creates or updates customers by external id, in one transaction: a new external id is
    /// created (the fields a row does not give empty); a known one takes the fields its row
    /// gives, a field given empty clearing its value, and keeps the others. A row whose
    /// currency differs from the stored customer's is left alone and answered `Unchanged` with
    /// the stored customer (the caller reports the conflict). Rows without an external id are
    /// created. Answers one outcome per row, in order; a known customer whose row changed a
    /// field is `Updated`, one left as it was `Unchanged`.
    async fn upsert_customers(
        &self,
        customers: &[CustomerUpsert],
    ) -> Result<Vec<Upserted<Customer>>, StoreError>;
}
