//! Rows as diesel reads them, and their conversion into domain values.

use antaeus_core::store::StoreError;
use antaeus_models::{
    Customer, CustomerId, Dispute, ExternalId, Invoice, InvoiceId, Money, ProviderRefs,
};
use chrono::NaiveDateTime;
use diesel::{Queryable, QueryableByName, Selectable};

use crate::schema::{customers, invoices};
use crate::time::from_db;

/// A `customers` row.
#[derive(Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = customers, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct CustomerRow {
    pub id: i64,
    pub currency: String,
    pub external_id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub provider_customer_ref: Option<String>,
    pub provider_payment_method_ref: Option<String>,
}

/// An `invoices` row, as the API shows it.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = invoices, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct InvoiceRow {
    pub id: i64,
    pub customer_id: i64,
    pub amount_minor: i64,
    pub currency: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub failure_reason: Option<String>,
    pub external_id: Option<String>,
    pub due_at: NaiveDateTime,
    pub description: Option<String>,
    pub refunded_minor: i64,
    pub dispute_id: Option<String>,
    pub dispute_status: Option<String>,
    pub dispute_reason: Option<String>,
    pub dispute_amount_minor: Option<i64>,
    pub dispute_evidence_due_by: Option<NaiveDateTime>,
    pub extra_charges: i32,
}

pub(crate) fn corrupt(table: &str, id: i64, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{table} row {id}: {err}"))
}

/// A stored non-negative counter.
pub(crate) fn count<T: TryFrom<i64>>(stored: impl Into<i64>) -> Result<T, String> {
    let stored = stored.into();
    T::try_from(stored).map_err(|_| format!("counter {stored} out of range"))
}

/// A counter as stored (saturating: counters never get near `i32::MAX`).
pub(crate) fn stored(counter: u32) -> i32 {
    i32::try_from(counter).unwrap_or(i32::MAX)
}

/// Renders a parse error for [`corrupt`].
pub(crate) fn text(err: impl std::fmt::Display) -> String {
    err.to_string()
}

impl TryFrom<CustomerRow> for Customer {
    type Error = StoreError;

    fn try_from(row: CustomerRow) -> Result<Self, Self::Error> {
        let id = row.id;
        let parse = || -> Result<Customer, String> {
            Ok(Customer {
                id: CustomerId::new(row.id).map_err(text)?,
                currency: row.currency.parse().map_err(text)?,
                external_id: external_id(row.external_id)?,
                name: row.name,
                email: row.email,
                provider: ProviderRefs {
                    customer_ref: row.provider_customer_ref,
                    payment_method_ref: row.provider_payment_method_ref,
                },
            })
        };
        parse().map_err(|e| corrupt("customers", id, e))
    }
}

impl TryFrom<InvoiceRow> for Invoice {
    type Error = StoreError;

    fn try_from(row: InvoiceRow) -> Result<Self, Self::Error> {
        let id = row.id;
        parse_invoice(row).map_err(|e| corrupt("invoices", id, e))
    }
}

fn parse_invoice(row: InvoiceRow) -> Result<Invoice, String> {
    let currency = row.currency.parse().map_err(text)?;
    let dispute = match (row.dispute_id, row.dispute_status) {
        (Some(id), Some(status)) => Some(Box::new(Dispute {
            id,
            status,
            reason: row.dispute_reason.unwrap_or_default(),
            amount: Money::from_minor(
                row.dispute_amount_minor.unwrap_or(row.amount_minor),
                currency,
            )
            .map_err(text)?,
            evidence_due_by: row.dispute_evidence_due_by.map(from_db),
        })),
        _ => None,
    };
    Ok(Invoice {
        id: InvoiceId::new(row.id).map_err(text)?,
        customer_id: CustomerId::new(row.customer_id).map_err(text)?,
        amount: Money::from_minor(row.amount_minor, currency).map_err(text)?,
        refunded: Money::from_minor(row.refunded_minor, currency).map_err(text)?,
        dispute,
        extra_charges: count(row.extra_charges)?,
        status: row.status.parse().map_err(text)?,
        attempts: count(row.attempts)?,
        next_attempt_at: row.next_attempt_at.map(from_db),
        failure_reason: row
            .failure_reason
            .map(|r| r.parse())
            .transpose()
            .map_err(text)?,
        external_id: external_id(row.external_id)?,
        due_at: from_db(row.due_at),
        description: row.description,
    })
}

/// A stored external id.
fn external_id(stored: Option<String>) -> Result<Option<ExternalId>, String> {
    stored.map(ExternalId::parse).transpose().map_err(text)
}
