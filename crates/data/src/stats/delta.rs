//! Changes to the totals, gathered over a batch and written as a few upserts.

use std::collections::BTreeMap;

use antaeus_models::{InvoiceStatus, Money};
use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};

/// What a transaction changes in the totals. Keys are kept sorted, so that concurrent
/// transactions update the same rows in the same order (no deadlock on PostgreSQL).
#[derive(Debug, Default)]
pub(crate) struct StatsDelta {
    /// (status, currency) → (invoices, amount).
    pub totals: BTreeMap<(&'static str, &'static str), (i64, Parts)>,
    /// (month, metric, label, currency) → (count, amount).
    pub monthly: BTreeMap<(String, &'static str, String, &'static str), (i64, Parts)>,
    /// (run, minute, outcome) → calls.
    pub runs: BTreeMap<(i64, NaiveDateTime, &'static str), i64>,
}

/// An amount as the totals add it up: its low 32 bits and the rest, each summed in a column of
/// its own, so that a sum of any 64-bit amounts stays exact (`high * 2^32 + low`, read as 128
/// bits) where one 64-bit column would overflow.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Parts {
    /// The sum of the amounts' low 32 bits.
    pub low: i64,
    /// The sum of the amounts' bits above the low 32.
    pub high: i64,
}

impl Parts {
    /// Adds `minor` (an amount, never negative) once.
    fn add(&mut self, minor: i64) {
        self.low = self.low.saturating_add(minor & LOW_MASK);
        self.high = self.high.saturating_add(minor >> 32);
    }

    /// Takes `minor` (an amount, never negative) away once.
    fn sub(&mut self, minor: i64) {
        self.low = self.low.saturating_sub(minor & LOW_MASK);
        self.high = self.high.saturating_sub(minor >> 32);
    }

    /// Nothing added.
    pub fn is_zero(self) -> bool {
        self == Self::default()
    }

    /// The sum `high * 2^32 + low`, exactly.
    pub fn total(low: i64, high: i64) -> i128 {
        (i128::from(high) << 32) + i128::from(low)
    }
}

const LOW_MASK: i64 = 0xFFFF_FFFF;

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
        entry.1.add(amount.to_minor());
    }

    /// An invoice of `amount` went from `from` to `to`.
    pub(crate) fn moved(&mut self, from: InvoiceStatus, to: InvoiceStatus, amount: Money) {
        if counted(from) == counted(to) {
            return;
        }
        let currency = amount.currency().as_str();
        let out = self.totals.entry((counted(from), currency)).or_default();
        out.0 -= 1;
        out.1.sub(amount.to_minor());
        let into = self.totals.entry((counted(to), currency)).or_default();
        into.0 += 1;
        into.1.add(amount.to_minor());
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
        entry.1.add(amount.to_minor());
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
            if *invoices == 0 && amount.is_zero() {
                continue;
            }
            diesel::insert_into(t::table)
                .values((
                    t::status.eq(*status),
                    t::currency.eq(*currency),
                    t::invoices.eq(*invoices),
                    t::amount_low.eq(amount.low),
                    t::amount_high.eq(amount.high),
                ))
                .on_conflict((t::status, t::currency))
                .do_update()
                .set((
                    t::invoices.eq(t::invoices + excluded(t::invoices)),
                    t::amount_low.eq($crate::stats::saturating_sum(
                        $crate::stats::SumColumn::TotalsLow,
                    )),
                    t::amount_high.eq($crate::stats::saturating_sum(
                        $crate::stats::SumColumn::TotalsHigh,
                    )),
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
                    m::amount_low.eq(amount.low),
                    m::amount_high.eq(amount.high),
                ))
                .on_conflict((m::month, m::metric, m::label, m::currency))
                .do_update()
                .set((
                    m::count.eq(m::count + excluded(m::count)),
                    m::amount_low.eq($crate::stats::saturating_sum(
                        $crate::stats::SumColumn::MonthlyLow,
                    )),
                    m::amount_high.eq($crate::stats::saturating_sum(
                        $crate::stats::SumColumn::MonthlyHigh,
                    )),
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

/// The saturating sum's SQL for one table and column, built at compile time.
macro_rules! saturating {
    ($table:literal, $column:literal) => {
        concat!(
            "CASE WHEN excluded.",
            $column,
            " > 0 AND ",
            $table,
            ".",
            $column,
            " > 9223372036854775807 - excluded.",
            $column,
            " ",
            "THEN 9223372036854775807 ",
            "WHEN excluded.",
            $column,
            " < 0 AND ",
            $table,
            ".",
            $column,
            " < -9223372036854775807 - excluded.",
            $column,
            " ",
            "THEN -9223372036854775807 ELSE ",
            $table,
            ".",
            $column,
            " + excluded.",
            $column,
            " END"
        )
    };
}

/// A part of a sum the console's totals keep (see [`Parts`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum SumColumn {
    /// `invoice_totals.amount_low`.
    TotalsLow,
    /// `invoice_totals.amount_high`.
    TotalsHigh,
    /// `monthly_stats.amount_low`.
    MonthlyLow,
    /// `monthly_stats.amount_high`.
    MonthlyHigh,
}

/// `<table>.<column> + excluded.<column>`, held within the 64-bit range: a part of a sum
/// reaches it only after some two billion invoices, and must not fail the write it rides on
/// then (a part that reached the limit stays there).
pub(crate) fn saturating_sum(
    column: SumColumn,
) -> diesel::expression::SqlLiteral<diesel::sql_types::BigInt> {
    let sql = match column {
        SumColumn::TotalsLow => saturating!("invoice_totals", "amount_low"),
        SumColumn::TotalsHigh => saturating!("invoice_totals", "amount_high"),
        SumColumn::MonthlyLow => saturating!("monthly_stats", "amount_low"),
        SumColumn::MonthlyHigh => saturating!("monthly_stats", "amount_high"),
    };
    diesel::dsl::sql::<diesel::sql_types::BigInt>(sql)
}
