//! The invoices table: a page of invoices in id order, with the work of filters no index
//! serves (due, overdue) bounded to a window of ids per page.

use antaeus_models::{Invoice, InvoiceFilter, InvoiceId, InvoiceStatus, PageLimit, PageRequest};

use super::ConsoleService;
use crate::service::ServiceError;
use crate::store::InvoiceStore;

/// How many invoice ids one page of a bounded scan covers at most.
pub const SCAN_WINDOW: i64 = 100_000;

/// One page of the invoices table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoicePage {
    /// The invoices, in id order.
    pub invoices: Vec<Invoice>,
    /// Where the next page starts, when there may be one.
    pub next: Option<InvoiceId>,
    /// Set when the page ended at its scan window rather than full: the last id searched.
    pub searched_to: Option<InvoiceId>,
}

/// Whether no index serves `filter` in id order, so a page must bound its scan: due and
/// overdue read every row they test, unless a selective filter (a customer, a failure reason,
/// an external id, a dispute, a double charge, the FAILED or VOID status) narrows the rows
/// first.
pub fn needs_window(filter: &InvoiceFilter) -> bool {
    filter.due.is_some()
        && filter.customer_id.is_none()
        && filter.failure_reason.is_none()
        && filter.external_id.is_none()
        && filter.disputed.is_none()
        && !filter.double_charged
        && !matches!(
            filter.status,
            Some(InvoiceStatus::Failed | InvoiceStatus::Void)
        )
}

impl ConsoleService {
    /// Up to `limit` invoices matching `filter` after `after`, in id order; a filter that no
    /// index serves searches at most [`SCAN_WINDOW`] ids, and the page says where it stopped.
    pub async fn invoices(
        &self,
        filter: InvoiceFilter,
        after: Option<InvoiceId>,
        limit: PageLimit,
    ) -> Result<InvoicePage, ServiceError> {
        bounded_page(self.deps.invoices.as_ref(), filter, after, limit).await
    }
}

/// Up to `limit` invoices of `store` matching `filter` after `after`, in id order; a filter
/// that no index serves searches at most [`SCAN_WINDOW`] ids, and the page says where it
/// stopped (the console's table and the API's listing read invoices this way).
pub(crate) async fn bounded_page(
    store: &dyn InvoiceStore,
    mut filter: InvoiceFilter,
    after: Option<InvoiceId>,
    limit: PageLimit,
) -> Result<InvoicePage, ServiceError> {
    let window = if needs_window(&filter) {
        let from = after.map_or(0, InvoiceId::get);
        InvoiceId::new(from.saturating_add(SCAN_WINDOW)).ok()
    } else {
        None
    };
    filter.up_to = window;
    let invoices = store
        .list_invoices(filter, PageRequest { after, limit })
        .await?;
    if invoices.len() >= usize::from(limit.get()) {
        let next = invoices.last().map(|i| i.id);
        return Ok(InvoicePage {
            invoices,
            next,
            searched_to: None,
        });
    }
    let Some(end) = window else {
        return Ok(InvoicePage {
            invoices,
            next: None,
            searched_to: None,
        });
    };
    let beyond = store
        .list_invoices(
            InvoiceFilter::default(),
            PageRequest {
                after: Some(end),
                limit: PageLimit::new(1).unwrap_or_default(),
            },
        )
        .await?;
    let more = !beyond.is_empty();
    Ok(InvoicePage {
        invoices,
        next: more.then_some(end),
        searched_to: more.then_some(end),
    })
}
