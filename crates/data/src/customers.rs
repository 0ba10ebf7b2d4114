//! [`CustomerStore`] on SQLite and PostgreSQL.

use antaeus_core::store::{
    Creation, CustomerChanges, CustomerStore, CustomerUpdate, CustomerUpsert, KeyedRequest,
    NewCustomer, StoreError,
};
use antaeus_models::{Customer, CustomerId, ExternalId, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::error::store_error;
use crate::rows::CustomerRow;
use crate::schema::customers;

#[async_trait]
impl CustomerStore for Database {
    async fn fetch_customer(&self, id: CustomerId) -> Result<Option<Customer>, StoreError> {
        let row = self
            .run(move |pools| {
                with_conn!(pools, |c| customers::table
                    .find(id.get())
                    .select(CustomerRow::as_select())
                    .first(c)
                    .optional()
                    .map_err(store_error))
            })
            .await?;
        row.map(Customer::try_from).transpose()
    }

    async fn list_customers(
        &self,
        page: PageRequest<CustomerId>,
    ) -> Result<Vec<Customer>, StoreError> {
        let after = page.after.map_or(0, CustomerId::get);
        let limit = i64::from(page.limit.get());
        let rows = self
            .run(move |pools| {
                with_conn!(pools, |c| customers::table
                    .filter(customers::id.gt(after))
                    .order(customers::id.asc())
                    .limit(limit)
                    .select(CustomerRow::as_select())
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        rows.into_iter().map(Customer::try_from).collect()
    }

    async fn find_customer(
        &self,
        external_id: &ExternalId,
    ) -> Result<Option<Customer>, StoreError> {
        let external = external_id.to_string();
        let row = self
            .run(move |pools| {
                with_conn!(pools, |c| customers::table
                    .filter(customers::external_id.eq(&external))
                    .select(CustomerRow::as_select())
                    .first(c)
                    .optional()
                    .map_err(store_error))
            })
            .await?;
        row.map(Customer::try_from).transpose()
    }

    async fn create_customer(
        &self,
        customer: &NewCustomer,
        keyed: Option<KeyedRequest>,
        now: DateTime<Utc>,
    ) -> Result<Creation<Customer>, StoreError> {
        crate::creation::create_customer(self, customer, keyed, now).await
    }

    async fn update_customer(
        &self,
        id: CustomerId,
        changes: &CustomerChanges,
    ) -> Result<CustomerUpdate, StoreError> {
        crate::creation::update_customer(self, id, changes).await
    }

    async fn upsert_customers(
        &self,
        customers: &[CustomerUpsert],
    ) -> Result<Vec<antaeus_core::store::Upserted<Customer>>, StoreError> {
        crate::creation::upsert_customers(self, customers).await
    }
}
