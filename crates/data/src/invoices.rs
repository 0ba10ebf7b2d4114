//! [`InvoiceStore`] on SQLite and PostgreSQL.

use antaeus_core::store::{InvoiceStore, StoreError};
use antaeus_models::{Invoice, InvoiceFilter, InvoiceId, PageRequest};
use async_trait::async_trait;
use diesel::prelude::*;

use crate::Database;
use crate::error::store_error;
use crate::rows::InvoiceRow;
use crate::schema::invoices;

#[async_trait]
impl InvoiceStore for Database {
    async fn fetch_invoice(&self, id: InvoiceId) -> Result<Option<Invoice>, StoreError> {
        let row = self
            .run(move |pools| {
                with_conn!(pools, |c| invoices::table
                    .find(id.get())
                    .select(InvoiceRow::as_select())
                    .first(c)
                    .optional()
                    .map_err(store_error))
            })
            .await?;
        row.map(Invoice::try_from).transpose()
    }

    async fn list_invoices(
        &self,
        filter: InvoiceFilter,
        page: PageRequest<InvoiceId>,
    ) -> Result<Vec<Invoice>, StoreError> {
        let after = page.after.map_or(0, InvoiceId::get);
        let limit = i64::from(page.limit.get());
        let rows = self
            .run(move |pools| {
                with_conn!(pools, |c| {
                    let mut query = invoices::table
                        .filter(invoices::id.gt(after))
                        .order(invoices::id.asc())
                        .limit(limit)
                        .select(InvoiceRow::as_select())
                        .into_boxed();
                    if let Some(status) = filter.status {
                        query = query.filter(invoices::status.eq(status.as_str()));
                    }
                    if let Some(customer) = filter.customer_id {
                        query = query.filter(invoices::customer_id.eq(customer.get()));
                    }
                    query.load(c).map_err(store_error)
                })
            })
            .await?;
        rows.into_iter().map(Invoice::try_from).collect()
    }
}
