//! What is left for billing to do.

use antaeus_core::store::{Backlog, StoreError};
use antaeus_models::{InstanceId, InvoiceStatus, RunScope};
use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;

use crate::error::store_error;
use crate::pool::Pools;
use crate::schema::invoices;
use crate::status_filter::status_is;
use crate::time::to_db;

/// Whether anything of `scope` is due at `now`, and how many invoices are claimed, by
/// `instance` and by others.
pub(crate) fn backlog(
    pools: &Pools,
    now: DateTime<Utc>,
    instance: &InstanceId,
    scope: RunScope,
) -> Result<Backlog, StoreError> {
    let now = to_db(now);
    with_conn!(pools, |c| {
        // Claims first, then what is due: an invoice released between the two reads is seen
        // as due; one claimed between them is someone's to finish. Either way nothing due is
        // missed by a run deciding whether to end.
        let claimed: i64 = invoices::table
            .filter(status_is(InvoiceStatus::Charging))
            .count()
            .get_result(c)
            .map_err(store_error)?;
        let here: i64 = invoices::table
            .filter(status_is(InvoiceStatus::Charging))
            .filter(invoices::claimed_by.eq(instance.as_str()))
            .count()
            .get_result(c)
            .map_err(store_error)?;
        let due = (scope == RunScope::All
            && diesel::select(exists(
                invoices::table
                    .filter(status_is(InvoiceStatus::Pending))
                    .filter(invoices::next_attempt_at.is_null())
                    .filter(invoices::due_at.le(now)),
            ))
            .get_result::<bool>(c)
            .map_err(store_error)?)
            || diesel::select(exists(
                invoices::table
                    .filter(status_is(InvoiceStatus::Pending))
                    .filter(invoices::next_attempt_at.le(now)),
            ))
            .get_result::<bool>(c)
            .map_err(store_error)?;
        Ok(Backlog {
            due,
            claimed_elsewhere: u64::try_from(claimed - here).unwrap_or(0),
            claimed_here: u64::try_from(here).unwrap_or(0),
        })
    })
}
