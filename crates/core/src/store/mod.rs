//! The storage traits services depend on; `antaeus-data` implements them on SQLite and PostgreSQL.

mod attempts;
mod billing;
mod console;
mod creation;
mod customers;
mod error;
mod events;
mod instances;
mod invoices;
mod outbox;
mod payments;
mod refunds;
mod runs;
mod stats;

pub use attempts::AttemptStore;
pub use billing::{
    AttemptCompletion, AttemptEnd, Backlog, BillingStore, ClaimRequest, ClaimedInvoice,
    JournalEntry, PlannedAttempt, RecordReport,
};
pub use console::{ConsoleStore, ProblemCall};
pub use creation::{
    Creation, CustomerChanges, CustomerRef, CustomerUpdate, CustomerUpsert, InvoiceCreation,
    InvoiceDraft, KeyedRequest, NewCustomer, Upserted, stored_instant,
};
pub use customers::CustomerStore;
pub use error::{BoxError, StoreError};
pub use events::{EventStore, Redelivered};
pub use instances::InstanceStore;
pub use invoices::{InvoiceStore, RetryOutcome, VoidOutcome};
pub use outbox::{OutboxEvent, OutboxStore};
pub use payments::{
    AttemptNote, HandledEvent, InvoiceChange, PaymentStore, PaymentView, PaymentWrite,
    PaymentWriteOutcome,
};
pub use refunds::{
    NewRefund, ProviderRefundNews, RefundEnd, RefundStart, RefundStore, RefundToSend,
};
pub use runs::{NewRun, RunEnd, RunStore};
pub use stats::StatsStore;

#[cfg(any(test, feature = "mocks"))]
pub use attempts::MockAttemptStore;
#[cfg(any(test, feature = "mocks"))]
pub use billing::MockBillingStore;
#[cfg(any(test, feature = "mocks"))]
pub use console::MockConsoleStore;
#[cfg(any(test, feature = "mocks"))]
pub use customers::MockCustomerStore;
#[cfg(any(test, feature = "mocks"))]
pub use events::MockEventStore;
#[cfg(any(test, feature = "mocks"))]
pub use instances::MockInstanceStore;
#[cfg(any(test, feature = "mocks"))]
pub use invoices::MockInvoiceStore;
#[cfg(any(test, feature = "mocks"))]
pub use outbox::MockOutboxStore;
#[cfg(any(test, feature = "mocks"))]
pub use payments::MockPaymentStore;
#[cfg(any(test, feature = "mocks"))]
pub use refunds::MockRefundStore;
#[cfg(any(test, feature = "mocks"))]
pub use runs::MockRunStore;
#[cfg(any(test, feature = "mocks"))]
pub use stats::MockStatsStore;
