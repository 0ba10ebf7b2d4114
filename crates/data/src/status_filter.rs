//! Invoice status, dispute and double-charge filters with their constants written into the SQL
//! as literals.
//!
//! PostgreSQL indexes invoices by status with partial indexes (`WHERE status = 'PENDING'`, …),
//! disputed invoices with `invoices_disputed` (`WHERE dispute_status IS NOT NULL`) and
//! invoices charged more than once with `invoices_double_charged` (`WHERE extra_charges > 0`);
//! a planner can use one only when the query's own condition implies its predicate from
//! constants: a bound parameter (`status = $1`, `<> ALL($1)`) would leave a cached generic plan
//! scanning the table.

use antaeus_models::{Dispute, DisputeFilter, InvoiceStatus};
use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::sql_types::Bool;

/// `invoices.status = '<status>'`.
pub(crate) fn status_is(status: InvoiceStatus) -> SqlLiteral<Bool> {
    sql::<Bool>(match status {
        InvoiceStatus::Pending => "invoices.status = 'PENDING'",
        InvoiceStatus::Charging => "invoices.status = 'CHARGING'",
        InvoiceStatus::Paid => "invoices.status = 'PAID'",
        InvoiceStatus::Failed => "invoices.status = 'FAILED'",
        InvoiceStatus::Void => "invoices.status = 'VOID'",
    })
}

/// Disputed invoices: any dispute (the partial index's own predicate), or an open one (the
/// same, less the closed statuses).
pub(crate) fn dispute_is(filter: DisputeFilter) -> SqlLiteral<Bool> {
    let disputed = "invoices.dispute_status IS NOT NULL";
    sql::<Bool>(&match filter {
        DisputeFilter::Any => disputed.to_owned(),
        DisputeFilter::Open => {
            let closed: Vec<String> = Dispute::CLOSED_STATUSES
                .iter()
                .map(|s| format!("'{s}'"))
                .collect();
            format!(
                "{disputed} AND invoices.dispute_status NOT IN ({})",
                closed.join(", ")
            )
        }
    })
}

/// Invoices the provider reported paid more than once: the partial index
/// `invoices_double_charged`'s own predicate, so both SQLite and PostgreSQL can read it alone.
pub(crate) fn double_charged() -> SqlLiteral<Bool> {
    sql::<Bool>("invoices.extra_charges > 0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dispute_literals_name_the_partial_index_predicate() {
        for filter in [DisputeFilter::Any, DisputeFilter::Open] {
            let sql =
                diesel::debug_query::<diesel::sqlite::Sqlite, _>(&dispute_is(filter)).to_string();
            assert!(
                sql.starts_with("invoices.dispute_status IS NOT NULL"),
                "{sql}"
            );
        }
        let open =
            diesel::debug_query::<diesel::sqlite::Sqlite, _>(&dispute_is(DisputeFilter::Open))
                .to_string();
        assert!(
            open.contains("NOT IN ('won', 'lost', 'warning_closed', 'charge_refunded')"),
            "{open}"
        );
    }

    #[test]
    fn the_double_charge_literal_is_the_partial_index_predicate() {
        let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&double_charged()).to_string();
        assert!(sql.starts_with("invoices.extra_charges > 0"), "{sql}");
    }

    #[test]
    fn each_literal_names_its_status() {
        for status in InvoiceStatus::ALL.iter().copied() {
            let sql =
                diesel::debug_query::<diesel::sqlite::Sqlite, _>(&status_is(status)).to_string();
            assert!(
                sql.starts_with(&format!("invoices.status = '{}'", status.as_str())),
                "{sql}"
            );
        }
    }
}
