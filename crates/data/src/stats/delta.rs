//! Changes to the totals, gathered over a batch and written as a few upserts.

use std::collections::BTreeMap;

use antaeus_models::{InvoiceStatus, Money};
use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

/// What a transaction changes in the totals. Keys are kept sorted, so that concurrent
/// transactions update the same rows in the same order (no deadlock on PostgreSQL).
#[derive(Debug, Default)]
pub(crate) struct StatsDelta {
    /// (status, currency) → (invoices, amount in minor units).
    pub totals: BTreeMap<(&'static str, &'static str), (i64, i64)>,
    /// (month, metric, label, currency) → (count, amount in minor units).
    pub monthly: BTreeMap<(String, &'static str, String, &'static str), (i64, i64)>,
    /// (run, minute, outcome) → calls.
    pub runs: BTreeMap<(i64, NaiveDateTime, &'static str), i64>,
}

/// The status an invoice is counted under: a claim in flight counts as PENDING.
fn counted(status: InvoiceStatus) -> &'static str {
    match status {
        InvoiceStatus::Charging => InvoiceStatus::Pending.as_str(),
        other => other.as_str(),
    }
}

/// `YYYY-MM` of an instant (called per outcome: no format string to parse).
fn month(at: DateTime<Utc>) -> String {
    format!("{:04}-{:02}", at.year(), at.month())
}

impl StatsDelta {
    /// An invoice of `amount` entered `status` (created).
    pub(crate) fn added(&mut self, status: InvoiceStatus, amount: Money) {
        let entry = self
            .totals
            .entry((counted(status), amount.currency().as_str()))
            .or_default();
        entry.0 += 1;
        entry.1 = entry.1.saturating_add(amount.to_minor());
    }

    /// An invoice of `amount` went from `from` to `to`.
    pub(crate) fn moved(&mut self, from: InvoiceStatus, to: InvoiceStatus, amount: Money) {
        if counted(from) == counted(to) {
            return;
        }
        let currency = amount.currency().as_str();
        let out = self.totals.entry((counted(from), currency)).or_default();
        out.0 -= 1;
        out.1 = out.1.saturating_sub(amount.to_minor());
        let into = self.totals.entry((counted(to), currency)).or_default();
        into.0 += 1;
        into.1 = into.1.saturating_add(amount.to_minor());
    }

    /// `amount` was collected at `at`.
    pub(crate) fn collected(&mut self, at: DateTime<Utc>, amount: Money) {
        let entry = self
            .monthly
            .entry((
                month(at),
                "collected",
                String::new(),
                amount.currency().as_str(),
            ))
            .or_default();
        entry.0 += 1;
        entry.1 += amount.to_minor();
    }

    /// A charge was declined at `at`, for `code` (empty when the provider gave none).
    pub(crate) fn declined(&mut self, at: DateTime<Utc>, code: Option<&str>) {
        self.count(at, "declined", code.unwrap_or_default());
    }

    /// An invoice failed at `at`, for `reason`.
    pub(crate) fn failed(&mut self, at: DateTime<Utc>, reason: &str) {
        self.count(at, "failed", reason);
    }

    fn count(&mut self, at: DateTime<Utc>, metric: &'static str, label: &str) {
        self.monthly
            .entry((month(at), metric, label.to_owned(), ""))
            .or_default()
            .0 += 1;
    }

    /// Run `run` made a call that ended `outcome` at `at`.
    pub(crate) fn call(&mut self, run: i64, at: DateTime<Utc>, outcome: &'static str) {
        let minute = at
            .naive_utc()
            .with_second(0)
            .and_then(|t| t.with_nanosecond(0))
            .unwrap_or_else(|| at.naive_utc());
        *self.runs.entry((run, minute, outcome)).or_default() += 1;
    }
}

/// Applies `$delta` (a [`StatsDelta`]) on connection `$c`: one upsert per changed row, in key
/// order; evaluates to `QueryResult<()>` (inside a query closure, with `?`).
macro_rules! apply_stats {
    ($c:ident, $delta:expr) => {{
        use diesel::upsert::excluded;
        use $crate::schema::{invoice_totals as t, monthly_stats as m, run_stats as r};
        let delta: &$crate::stats::StatsDelta = $delta;
        for ((status, currency), (invoices, amount)) in &delta.totals {
            if (*invoices, *amount) == (0, 0) {
                continue;
            }
            diesel::insert_into(t::table)
                .values((
                    t::status.eq(*status),
                    t::currency.eq(*currency),
                    t::invoices.eq(*invoices),
                    t::amount_minor.eq(*amount),
                ))
                .on_conflict((t::status, t::currency))
                .do_update()
                .set((
                    t::invoices.eq(t::invoices + excluded(t::invoices)),
                    t::amount_minor.eq($crate::stats::saturating_sum("invoice_totals")),
                ))
                .execute($c)?;
        }
        for ((month, metric, label, currency), (count, amount)) in &delta.monthly {
            diesel::insert_into(m::table)
                .values((
                    m::month.eq(month),
                    m::metric.eq(*metric),
                    m::label.eq(label),
                    m::currency.eq(*currency),
                    m::count.eq(*count),
                    m::amount_minor.eq(*amount),
                ))
                .on_conflict((m::month, m::metric, m::label, m::currency))
                .do_update()
                .set((
                    m::count.eq(m::count + excluded(m::count)),
                    m::amount_minor.eq($crate::stats::saturating_sum("monthly_stats")),
                ))
                .execute($c)?;
        }
        for ((run, minute, outcome), calls) in &delta.runs {
            diesel::insert_into(r::table)
                .values((
                    r::run_id.eq(*run),
                    r::minute.eq(*minute),
                    r::outcome.eq(*outcome),
                    r::calls.eq(*calls),
                ))
                .on_conflict((r::run_id, r::minute, r::outcome))
                .do_update()
                .set(r::calls.eq(r::calls + excluded(r::calls)))
                .execute($c)?;
        }
        Ok::<(), diesel::result::Error>(())
    }};
}
pub(crate) use apply_stats;

/// `<table>.amount_minor + excluded.amount_minor`, held within the 64-bit range: amounts may be
/// as large as an invoice can hold, and a sum of such must not fail the write it rides on (a
/// total that reached the limit stays there).
pub(crate) fn saturating_sum(
    table: &'static str,
) -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    let sql = match table {
        "invoice_totals" => SATURATING_INVOICE_TOTALS,
        _ => SATURATING_MONTHLY_STATS,
    };
    diesel::dsl::sql::<diesel::sql_types::BigInt>(sql)
}

macro_rules! saturating {
    ($table:literal) => {
        concat!(
            "CASE WHEN excluded.amount_minor > 0 AND ",
            $table,
            ".amount_minor > 9223372036854775807 - excluded.amount_minor ",
            "THEN 9223372036854775807 ",
            "WHEN excluded.amount_minor < 0 AND ",
            $table,
            ".amount_minor < -9223372036854775807 - excluded.amount_minor ",
            "THEN -9223372036854775807 ELSE ",
            $table,
            ".amount_minor + excluded.amount_minor END"
        )
    };
}

const SATURATING_INVOICE_TOTALS: &str = saturating!("invoice_totals");
const SATURATING_MONTHLY_STATS: &str = saturating!("monthly_stats");
