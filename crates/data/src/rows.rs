//! Rows as diesel reads them, and their conversion into domain values.

use antaeus_core::store::StoreError;
use antaeus_models::{Customer, CustomerId, Invoice, InvoiceId, Money};
use diesel::{Queryable, Selectable};

use crate::schema::{customers, invoices};

/// A `customers` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = customers, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct CustomerRow {
    pub id: i64,
    pub currency: String,
}

/// An `invoices` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = invoices, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct InvoiceRow {
    pub id: i64,
    pub customer_id: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
}

fn corrupt(table: &str, id: i64, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{table} row {id}: {err}"))
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;

    fn try_from(row: CustomerRow) -> Result<Self, Self::Error> {
        let bad = |e| corrupt("customers", row.id, e);
        Ok(Customer {
            id: CustomerId::new(row.id).map_err(bad)?,
            currency: row.currency.parse().map_err(bad)?,
        })
    }
}

impl TryFrom<InvoiceRow> for Invoice {
    type Error = StoreError;

    fn try_from(row: InvoiceRow) -> Result<Self, Self::Error> {
        let bad = |e| corrupt("invoices", row.id, e);
        Ok(Invoice::new(
            InvoiceId::new(row.id).map_err(bad)?,
            CustomerId::new(row.customer_id).map_err(bad)?,
            Money::from_minor(row.amount_minor, row.currency.parse().map_err(bad)?).map_err(bad)?,
            row.status.parse().map_err(bad)?,
        ))
    }
}
