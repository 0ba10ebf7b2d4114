//! Services: the operations the REST API and the CLI offer, on top of the storage traits.

mod console;
mod customers;
mod error;
mod events;
mod fingerprint;
mod invoices;
mod kept_counts;
mod payments;
mod refunds;
mod runs;
mod text;

pub use console::{
    ConsoleDeps, ConsoleService, INVOICE_EVENTS, InvoicePage, Overview, ProviderHealth,
    RECENT_RUNS, RunPage, SCAN_WINDOW, needs_window,
};
pub use customers::{Created, CustomerService};
pub use error::ServiceError;
pub use events::{EventPage, EventService, TYPE_SEARCH_WINDOW};
pub use invoices::{Due, InvoiceService, MAX_DESCRIPTION};
pub use payments::{PaymentEventDeps, PaymentEventService, Received, ReconcileReport};
pub use refunds::{MAX_REASON, RefundService};
pub use runs::{RunService, RunView};
