//! [`StatsStore`]: reading the console's totals.

use antaeus_core::store::{StatsStore, StoreError};
use antaeus_models::{
    AttemptOutcome, Currency, InvoiceStatus, InvoiceTotal, MoneyTotal, MonthlyMetric, MonthlyStat,
    RunId, RunMinute,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::error::store_error;
use crate::rows::text;
use crate::schema::{invoice_totals, monthly_stats, run_stats};
use crate::stats::Parts;
use crate::time::from_db;

fn corrupt(table: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{table}: {err}"))
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl StatsStore for Database {
    async fn invoice_totals(&self) -> Result<Vec<InvoiceTotal>, StoreError> {
        let rows: Vec<(String, String, i64, i64, i64)> = self
            .run(|pools| {
                with_conn!(pools, |c| invoice_totals::table
                    .filter(invoice_totals::invoices.ne(0))
                    .order((invoice_totals::status, invoice_totals::currency))
                    .select((
                        invoice_totals::status,
                        invoice_totals::currency,
                        invoice_totals::invoices,
                        invoice_totals::amount_low,
                        invoice_totals::amount_high,
                    ))
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        rows.into_iter()
            .map(|(status, currency, invoices, low, high)| {
                let parse = || -> Result<InvoiceTotal, String> {
                    let currency: Currency = currency.parse().map_err(text)?;
                    Ok(InvoiceTotal {
                        status: status.parse::<InvoiceStatus>().map_err(text)?,
                        invoices: count(invoices),
                        amount: MoneyTotal::from_minor(Parts::total(low, high), currency),
                    })
                };
                parse().map_err(|e| corrupt("invoice_totals", e))
            })
            .collect()
    }

    async fn monthly_stats(&self, within: DateTime<Utc>) -> Result<Vec<MonthlyStat>, StoreError> {
        let month = within.format("%Y-%m").to_string();
        let rows: Vec<(String, String, String, i64, i64, i64)> = self
            .run(move |pools| {
                with_conn!(pools, |c| monthly_stats::table
                    .filter(monthly_stats::month.eq(&month))
                    .filter(monthly_stats::count.ne(0))
                    .order((
                        monthly_stats::metric,
                        monthly_stats::count.desc(),
                        monthly_stats::label,
                        monthly_stats::currency,
                    ))
                    .select((
                        monthly_stats::metric,
                        monthly_stats::label,
                        monthly_stats::currency,
                        monthly_stats::count,
                        monthly_stats::amount_low,
                        monthly_stats::amount_high,
                    ))
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        rows.into_iter()
            .map(|(metric, label, currency, n, low, high)| {
                let parse = || -> Result<MonthlyStat, String> {
                    let currency: Option<Currency> = (!currency.is_empty())
                        .then(|| currency.parse())
                        .transpose()
                        .map_err(text)?;
                    Ok(MonthlyStat {
                        metric: metric.parse::<MonthlyMetric>().map_err(text)?,
                        label,
                        count: count(n),
                        amount: currency
                            .map(|c| MoneyTotal::from_minor(Parts::total(low, high), c)),
                        currency,
                    })
                };
                parse().map_err(|e| corrupt("monthly_stats", e))
            })
            .collect()
    }

    async fn run_stats(&self, run: RunId) -> Result<Vec<RunMinute>, StoreError> {
        let rows: Vec<(NaiveDateTime, String, i64)> = self
            .run(move |pools| {
                with_conn!(pools, |c| run_stats::table
                    .filter(run_stats::run_id.eq(run.get()))
                    .order((run_stats::minute, run_stats::outcome))
                    .select((run_stats::minute, run_stats::outcome, run_stats::calls))
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        rows.into_iter()
            .map(|(minute, outcome, calls)| {
                Ok(RunMinute {
                    minute: from_db(minute),
                    outcome: outcome
                        .parse::<AttemptOutcome>()
                        .map_err(|e| corrupt("run_stats", e))?,
                    calls: count(calls),
                })
            })
            .collect()
    }
}
