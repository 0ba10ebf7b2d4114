//! The totals the operator console reads (kept up to date by the writes that change them).

use antaeus_models::{InvoiceTotal, MonthlyStat, RunId, RunMinute};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;

/// Reads the console's totals: each read is a handful of rows, whatever the number of invoices.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// Invoices by status and currency.
    async fn invoice_totals(&self) -> Result<Vec<InvoiceTotal>, StoreError>;

    /// The statistics of the calendar month (UTC) that `within` falls in.
    async fn monthly_stats(&self, within: DateTime<Utc>) -> Result<Vec<MonthlyStat>, StoreError>;

    /// Run `run`'s provider calls by minute and outcome, oldest first.
    async fn run_stats(&self, run: RunId) -> Result<Vec<RunMinute>, StoreError>;
}
