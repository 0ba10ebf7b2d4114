//! Bulk inserts for seeding: multi-row statements inside one transaction per call, so a million
//! invoices go in quickly and memory holds only the batch the caller passes.

use antaeus_core::store::StoreError;
use antaeus_models::{Currency, Customer, CustomerId, InvoiceStatus, Money};
use diesel::prelude::*;

use crate::Database;
use crate::rows::CustomerRow;
use crate::schema::{customers, invoices};
use crate::stats::{StatsDelta, apply_stats};

/// Rows per INSERT statement: below SQLite's 32,766 and PostgreSQL's 65,535 bind parameters.
const ROWS_PER_STATEMENT: usize = 4_000;

/// An invoice to insert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewInvoice {
    /// Whose invoice it is.
    pub customer_id: CustomerId,
    /// The amount, in the invoice's currency.
    pub amount: Money,
    /// Its initial status.
    pub status: InvoiceStatus,
}

#[derive(Insertable)]
#[diesel(table_name = customers)]
struct NewCustomerRow {
    currency: &'static str,
}

#[derive(Insertable)]
#[diesel(table_name = invoices)]
struct NewInvoiceRow {
    customer_id: i64,
    amount_minor: i64,
    currency: &'static str,
    status: &'static str,
    due_at: chrono::NaiveDateTime,
}

impl Database {
    /// Whether the database holds no customer yet (a fresh database to seed).
    pub async fn is_empty(&self) -> Result<bool, StoreError> {
        self.run(|pools| {
            with_conn!(pools, |c| customers::table
                .select(customers::id)
                .first::<i64>(c)
                .optional()
                .map(|first| first.is_none())
                .map_err(crate::error::store_error))
        })
        .await
    }

    /// Inserts one customer per currency given, in one transaction; returns them with their ids.
    pub async fn insert_customers(
        &self,
        currencies: Vec<Currency>,
    ) -> Result<Vec<Customer>, StoreError> {
        let rows: Vec<NewCustomerRow> = currencies
            .into_iter()
            .map(|c| NewCustomerRow {
                currency: c.as_str(),
            })
            .collect();
        let inserted = self
            .run(move |pools| {
                write_txn!(pools, |c| {
                    let mut out = Vec::with_capacity(rows.len());
                    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                        out.extend(
                            diesel::insert_into(customers::table)
                                .values(chunk)
                                .returning(CustomerRow::as_returning())
                                .get_results::<CustomerRow>(c)?,
                        );
                    }
                    Ok(out)
                })
            })
            .await?;
        inserted.into_iter().map(Customer::try_from).collect()
    }

    /// After a bulk load: refreshes the planner's statistics on PostgreSQL (a server without
    /// autovacuum would otherwise plan the billing queries for empty tables). SQLite plans its
    /// hot queries by index name and needs nothing.
    pub async fn refresh_statistics(&self) -> Result<(), StoreError> {
        self.run(|pools| match pools {
            crate::pool::Pools::Sqlite(_) => Ok(()),
            crate::pool::Pools::Postgres(pool) => {
                let mut conn = pool.get().map_err(crate::error::pool_unavailable)?;
                diesel::connection::SimpleConnection::batch_execute(
                    &mut *conn,
                    "ANALYZE customers, invoices",
                )
                .map_err(crate::error::store_error)
            }
        })
        .await
    }

    /// Inserts the invoices in one transaction; returns how many were inserted. They have no
    /// due date (the zero time, shown as "—"), as the original Antaeus's invoices had none:
    /// the next run of every invoice due charges the PENDING ones, whatever its clock (tests,
    /// the benchmark).
    pub async fn insert_invoices(&self, invoices: Vec<NewInvoice>) -> Result<usize, StoreError> {
        self.insert_invoices_due(invoices, chrono::DateTime::UNIX_EPOCH)
            .await
    }

    /// [`Database::insert_invoices`], the invoices due at `due_at` (the demo data: when it was
    /// made).
    pub async fn insert_invoices_due(
        &self,
        invoices: Vec<NewInvoice>,
        due_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<usize, StoreError> {
        let due_at = crate::time::to_db(due_at);
        let mut stats = StatsDelta::default();
        for invoice in &invoices {
            stats.added(invoice.status, invoice.amount);
        }
        let rows: Vec<NewInvoiceRow> = invoices
            .into_iter()
            .map(|i| NewInvoiceRow {
                customer_id: i.customer_id.get(),
                amount_minor: i.amount.to_minor(),
                currency: i.amount.currency().as_str(),
                status: i.status.as_str(),
                due_at,
            })
            .collect();
        self.run(move |pools| {
            write_txn!(pools, |c| {
                let mut inserted = 0;
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    inserted += diesel::insert_into(invoices::table)
                        .values(chunk)
                        .execute(c)?;
                }
                apply_stats!(c, &stats)?;
                Ok(inserted)
            })
        })
        .await
    }
}
