//! Totals the operator console shows: invoices by status, a month's collections, declines and
//! failures, a run's calls over time.

use chrono::{DateTime, Utc};

use crate::{AttemptOutcome, Currency, InvoiceStatus, MoneyTotal};

/// Invoices in one status and currency (a claim in flight counts as PENDING).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceTotal {
    /// PENDING, PAID, FAILED or VOID.
    pub status: InvoiceStatus,
    /// How many.
    pub invoices: u64,
    /// Their amounts added up, in their currency, exactly.
    pub amount: MoneyTotal,
}

string_enum! {
    /// What a line of a month's statistics counts.
    pub enum MonthlyMetric ("monthly metric") {
        /// Invoices paid, and the amount collected, per currency.
        Collected = "collected",
        /// Declined charges, per decline code.
        Declined = "declined",
        /// Invoices that failed, per reason.
        Failed = "failed",
    }
}

/// One line of a month's statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyStat {
    /// What it counts.
    pub metric: MonthlyMetric,
    /// The decline code or failure reason (empty when there is none).
    pub label: String,
    /// For `collected`: the currency.
    pub currency: Option<Currency>,
    /// How many.
    pub count: u64,
    /// For `collected`: the amount, exactly.
    pub amount: Option<MoneyTotal>,
}

/// A run's provider calls that ended one way within one minute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMinute {
    /// The minute (its start, UTC).
    pub minute: DateTime<Utc>,
    /// How the calls ended.
    pub outcome: AttemptOutcome,
    /// How many.
    pub calls: u64,
}
