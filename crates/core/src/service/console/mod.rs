//! What the operator console reads: an overview of billing, a run's page, the events about an
//! invoice. Every read is a handful of rows from maintained totals or a bounded index range,
//! whatever the number of invoices.

mod health;
mod invoices;
mod overview;
mod run_page;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use antaeus_models::{BillingRun, EventRecord, InvoiceId, PageLimit, PageRequest, RunId};
use chrono::{DateTime, Utc};

pub use health::ProviderHealth;
pub(crate) use invoices::bounded_page;
pub use invoices::{InvoicePage, SCAN_WINDOW, needs_window};
pub use overview::Overview;
pub use run_page::RunPage;

use super::ServiceError;
use super::kept_counts::KeptCounts;
use crate::Clock;
use crate::store::{ConsoleStore, InvoiceStore, OutboxStore, RunStore, StatsStore};

/// How many runs the overview charts.
pub const RECENT_RUNS: u16 = 10;

/// The newest events an invoice's page lists.
pub const INVOICE_EVENTS: u16 = 200;

/// The stores and live state the console reads.
#[derive(Clone)]
pub struct ConsoleDeps {
    /// Maintained totals.
    pub stats: Arc<dyn StatsStore>,
    /// Billing runs.
    pub runs: Arc<dyn RunStore>,
    /// Invoices, for the bounded listings.
    pub invoices: Arc<dyn InvoiceStore>,
    /// The outbox's backlog and dead events.
    pub outbox: Arc<dyn OutboxStore>,
    /// A run's problem calls, an invoice's events.
    pub console: Arc<dyn ConsoleStore>,
    /// The provider's circuit breaker and calls in flight.
    pub health: Arc<dyn ProviderHealth>,
    /// The time (this month, due or overdue).
    pub clock: Arc<dyn Clock>,
}

/// Reads for the operator console's pages.
#[derive(Clone)]
pub struct ConsoleService {
    deps: ConsoleDeps,
    /// The outbox's backlog: a count that grows with the events a run leaves behind.
    backlog: Arc<KeptCounts<(), u64>>,
}

impl ConsoleService {
    /// A service over `deps`.
    pub fn new(deps: ConsoleDeps) -> Self {
        Self {
            backlog: Arc::new(KeptCounts::new(deps.clock.clone())),
            deps,
        }
    }

    /// The time now, by the service's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.deps.clock.now()
    }

    /// One page of runs, newest first, older than `before` when given.
    pub async fn runs(
        &self,
        before: Option<RunId>,
        limit: PageLimit,
    ) -> Result<Vec<BillingRun>, ServiceError> {
        Ok(self
            .deps
            .runs
            .list_runs(PageRequest {
                after: before,
                limit,
            })
            .await?)
    }

    /// The newest events about `invoice` (at most [`INVOICE_EVENTS`]), oldest first.
    pub async fn invoice_events(
        &self,
        invoice: InvoiceId,
    ) -> Result<Vec<EventRecord>, ServiceError> {
        Ok(self
            .deps
            .console
            .invoice_events(invoice, INVOICE_EVENTS)
            .await?)
    }
}
