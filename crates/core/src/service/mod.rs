//! Services: the operations the REST API and the CLI offer, on top of the storage traits.

mod customers;
mod error;
mod events;
mod fingerprint;
mod invoices;
mod runs;
mod text;

pub use customers::{Created, CustomerService};
pub use error::ServiceError;
pub use events::EventService;
pub use invoices::{InvoiceService, MAX_DESCRIPTION};
pub use runs::{RunService, RunView};
