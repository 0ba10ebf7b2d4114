//! Services: the operations the REST API and the CLI offer, on top of the storage traits.

mod customers;
mod error;
mod invoices;
mod runs;

pub use customers::CustomerService;
pub use error::ServiceError;
pub use invoices::InvoiceService;
pub use runs::{RunService, RunView};
