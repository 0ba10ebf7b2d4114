//! The overview page: totals, this month, recent runs, provider health, the outbox, the open
//! disputes and the invoices charged more than once.

use antaeus_models::{BillingRun, InvoiceTotal, MonthlyMetric, MonthlyStat, PageLimit};
use chrono::{DateTime, Utc};

use super::{ConsoleService, RECENT_RUNS};
use crate::billing::BreakerState;
use crate::service::ServiceError;

/// Everything the overview page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// When it was read (its month is "this month").
    pub now: DateTime<Utc>,
    /// Invoices by status and currency.
    pub totals: Vec<InvoiceTotal>,
    /// Collected this month, per currency.
    pub collected: Vec<MonthlyStat>,
    /// Invoices failed this month, per reason, most first.
    pub failure_reasons: Vec<MonthlyStat>,
    /// Declines this month, per decline code, most first.
    pub decline_codes: Vec<MonthlyStat>,
    /// The newest runs, newest first.
    pub recent_runs: Vec<BillingRun>,
    /// The provider circuit breaker's state.
    pub breaker: BreakerState,
    /// Provider calls being made now by this instance.
    pub calls_in_flight: usize,
    /// Events waiting for delivery.
    pub outbox_backlog: u64,
    /// When the backlog was counted: a count over the outbox's recent history, served again
    /// for ten times what it cost (15 s at most), so it may be a little older than `now`.
    pub outbox_backlog_at: DateTime<Utc>,
    /// Events given up on.
    pub dead_events: u64,
    /// Invoices whose payment is disputed, the dispute still open.
    pub open_disputes: u64,
    /// Invoices the provider reported paid more than once.
    pub double_charged: u64,
}

impl ConsoleService {
    /// The overview, from maintained totals and a few index reads.
    pub async fn overview(&self) -> Result<Overview, ServiceError> {
        let deps = &self.deps;
        let now = deps.clock.now();
        let limit = PageLimit::new(RECENT_RUNS).unwrap_or_default();
        // Read together: the page waits for the slowest read, not for their sum (a billing run
        // keeps the store busy meanwhile).
        let (
            totals,
            month,
            recent_runs,
            outbox_backlog,
            dead_events,
            open_disputes,
            double_charged,
        ) = tokio::try_join!(
            async { Ok::<_, ServiceError>(deps.stats.invoice_totals().await?) },
            async { Ok(deps.stats.monthly_stats(now).await?) },
            self.runs(None, limit),
            async {
                let backlog = self.backlog.get((), || deps.outbox.outbox_backlog());
                Ok(backlog.await?)
            },
            async { Ok(deps.outbox.dead_events().await?) },
            async { Ok(deps.console.open_disputes().await?) },
            async { Ok(deps.console.double_charged().await?) },
        )?;
        let of = |metric: MonthlyMetric| -> Vec<MonthlyStat> {
            month
                .iter()
                .filter(|s| s.metric == metric)
                .cloned()
                .collect()
        };
        Ok(Overview {
            now,
            totals,
            collected: of(MonthlyMetric::Collected),
            failure_reasons: of(MonthlyMetric::Failed),
            decline_codes: of(MonthlyMetric::Declined),
            recent_runs,
            breaker: deps.health.breaker_state(),
            calls_in_flight: deps.health.calls_in_flight(),
            outbox_backlog: outbox_backlog.value,
            outbox_backlog_at: outbox_backlog.at,
            dead_events,
            open_disputes,
            double_charged,
        })
    }
}
