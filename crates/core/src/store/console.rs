//! What the operator console reads beyond the other stores: a run's problem calls, the events
//! about one invoice, the count of open disputes and the count of invoices charged more than
//! once, all from indexes.

use antaeus_models::{ChargeAttempt, EventRecord, InvoiceId, RunId};
use async_trait::async_trait;

use super::StoreError;

/// A provider call of a run that did not charge, with its position for keyset pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProblemCall {
    /// The call's row id: the next page starts after it.
    pub cursor: i64,
    /// The call.
    pub attempt: ChargeAttempt,
}

/// Reads for the operator console's pages; each read is bounded by its limit or by an index.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Up to `limit` finished calls of `run` that did not charge (declined, failed, transient
    /// errors), in the order they were made, after the call `after`.
    async fn run_problems(
        &self,
        run: RunId,
        after: Option<i64>,
        limit: u16,
    ) -> Result<Vec<ProblemCall>, StoreError>;

    /// The newest `limit` events about `invoice`, oldest first.
    async fn invoice_events(
        &self,
        invoice: InvoiceId,
        limit: u16,
    ) -> Result<Vec<EventRecord>, StoreError>;

    /// How many invoices have an open dispute: counted over the index of disputed invoices
    /// alone, never over all invoices.
    async fn open_disputes(&self) -> Result<u64, StoreError>;

    /// How many invoices the provider reported paid more than once: counted over the index of
    /// double-charged invoices alone, never over all invoices.
    async fn double_charged(&self) -> Result<u64, StoreError>;
}
