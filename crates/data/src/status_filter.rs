//! Invoice status filters with the status written into the SQL as a literal.
//!
//! PostgreSQL indexes invoices by status with partial indexes (`WHERE status = 'PENDING'`, …),
//! and a planner can use one only when the query's own condition names the same constant: a
//! bound parameter (`status = $1`) would leave a cached generic plan scanning the table.

use antaeus_models::InvoiceStatus;
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

#[cfg(test)]
mod tests {
    use super::*;

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
