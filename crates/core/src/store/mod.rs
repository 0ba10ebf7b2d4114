//! The storage traits services depend on; `antaeus-data` implements them on SQLite and PostgreSQL.

mod customers;
mod error;
mod invoices;

pub use customers::CustomerStore;
pub use error::StoreError;
pub use invoices::InvoiceStore;

#[cfg(any(test, feature = "mocks"))]
pub use customers::MockCustomerStore;
#[cfg(any(test, feature = "mocks"))]
pub use invoices::MockInvoiceStore;
