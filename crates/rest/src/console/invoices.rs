//! `GET /console/invoices`: the invoices table with its filters (disputed and charged-twice
//! among them) and keyset pages; disputed and double-charged invoices are flagged in their rows.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::{
    Currency, CustomerId, DisputeFilter, DueFilter, FailureReason, Invoice, InvoiceFilter,
    InvoiceId, InvoiceStatus,
};
use maud::{Markup, html};
use serde::Deserialize;

use super::ConsoleState;
use super::access::Access;
use super::error::ConsoleError;
use super::format::{due, maybe_time, or_dash};
use super::layout::{Chrome, Section, ok, page};
use super::paging::{cursor, page_limit, query};

/// The filters, as the form sends them (empty means "any").
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    status: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    disputed: String,
    #[serde(default)]
    charged_twice: String,
    #[serde(default)]
    after: String,
}

impl Filters {
    fn to_filter(&self, now: chrono::DateTime<chrono::Utc>) -> Result<InvoiceFilter, ConsoleError> {
        Ok(InvoiceFilter {
            status: cursor::<InvoiceStatus>("status", Some(&self.status))?,
            customer_id: cursor::<CustomerId>("customer", Some(&self.customer))?,
            currency: cursor::<Currency>("currency", Some(&self.currency))?,
            failure_reason: cursor::<FailureReason>("failure reason", Some(&self.reason))?,
            due: match self.due.trim() {
                "" => None,
                "due" => Some(DueFilter::DueAt(now)),
                "overdue" => Some(DueFilter::OverdueAt(now)),
                other => {
                    return Err(ConsoleError::BadRequest(format!(
                        "due: {other:?} is neither \"due\" nor \"overdue\""
                    )));
                }
            },
            disputed: match self.disputed.trim() {
                "" => None,
                "1" => Some(DisputeFilter::Any),
                "open" => Some(DisputeFilter::Open),
                other => {
                    return Err(ConsoleError::BadRequest(format!(
                        "disputed: {other:?} is neither \"1\" nor \"open\""
                    )));
                }
            },
            double_charged: match self.charged_twice.trim() {
                "" => false,
                "1" => true,
                other => {
                    return Err(ConsoleError::BadRequest(format!(
                        "charged_twice: {other:?} is not \"1\""
                    )));
                }
            },
            ..InvoiceFilter::default()
        })
    }

    /// The filters as a query string (for the next page's link).
    fn query(&self, after: Option<InvoiceId>) -> String {
        query(&[
            ("status", self.status.trim().to_owned()),
            ("customer", self.customer.trim().to_owned()),
            ("currency", self.currency.trim().to_owned()),
            ("due", self.due.trim().to_owned()),
            ("reason", self.reason.trim().to_owned()),
            ("disputed", self.disputed.trim().to_owned()),
            ("charged_twice", self.charged_twice.trim().to_owned()),
            ("after", after.map(|a| a.to_string()).unwrap_or_default()),
        ])
    }
}

/// One page of the invoices matching the filters, in id order.
pub async fn list(
    access: Access,
    req: HttpRequest,
    state: web::Data<ConsoleState>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, ConsoleError> {
    let filter = filters.to_filter(state.service.now())?;
    let after = cursor::<InvoiceId>("after", Some(&filters.after))?;
    let found = state.service.invoices(filter, after, page_limit()).await?;
    let chrome = Chrome::new(access, &state, &req);
    let body = html! {
        section { (filter_form(&filters)) }
        section {
            (table(&found.invoices))
            @if let Some(to) = found.searched_to {
                p.note #searched-to { "Searched invoices up to #" (to) " (due and overdue search a stretch of ids per page)." }
            }
            @if let Some(next) = found.next {
                p.pager { a #next-page rel="next" href={ "/console/invoices?" (filters.query(Some(next))) } { "Next" } }
            }
        }
    };
    Ok(ok(page(
        Section::Invoices,
        "Invoices",
        &chrome,
        false,
        body,
    )))
}

fn select(id: &str, name: &str, label: &str, current: &str, options: &[(&str, &str)]) -> Markup {
    html! {
        div {
            label for=(id) { (label) }
            select id=(id) name=(name) {
                @for (value, text) in options {
                    option value=(value) selected[*value == current.trim()] { (text) }
                }
            }
        }
    }
}

fn filter_form(f: &Filters) -> Markup {
    let statuses: Vec<(&str, &str)> = std::iter::once(("", "Any"))
        .chain(
            [
                InvoiceStatus::Pending,
                InvoiceStatus::Paid,
                InvoiceStatus::Failed,
                InvoiceStatus::Void,
            ]
            .iter()
            .map(|s| (s.as_str(), s.as_str())),
        )
        .collect();
    let currencies: Vec<(&str, &str)> = std::iter::once(("", "Any"))
        .chain(Currency::ALL.iter().map(|c| (c.as_str(), c.as_str())))
        .collect();
    let reasons: Vec<(&str, &str)> = std::iter::once(("", "Any"))
        .chain(FailureReason::ALL.iter().map(|r| (r.as_str(), r.as_str())))
        .collect();
    html! {
        form.filters method="get" action="/console/invoices" {
            (select("filter-status", "status", "Status", &f.status, &statuses))
            div {
                label for="filter-customer" { "Customer id" }
                input #filter-customer name="customer" inputmode="numeric" size="10" value=(f.customer.trim());
            }
            (select("filter-currency", "currency", "Currency", &f.currency, &currencies))
            (select("filter-due", "due", "Due", &f.due, &[("", "Any"), ("due", "due now"), ("overdue", "overdue")]))
            (select("filter-reason", "reason", "Failure reason", &f.reason, &reasons))
            (select("filter-disputed", "disputed", "Dispute", &f.disputed, &[("", "Any"), ("1", "disputed"), ("open", "open dispute")]))
            (select("filter-charged-twice", "charged_twice", "Charged twice", &f.charged_twice, &[("", "Any"), ("1", "charged twice")]))
            div { button #apply-filters type="submit" { "Filter" } }
        }
    }
}

/// What a row flags in words beside the status: a dispute (open, or how it closed) and a
/// double charge.
fn flags(i: &Invoice) -> Vec<String> {
    let mut flags = Vec::new();
    if let Some(d) = &i.dispute {
        flags.push(if d.is_closed() {
            format!("dispute {}", d.status)
        } else {
            "disputed".to_owned()
        });
    }
    if i.extra_charges > 0 {
        flags.push("charged twice".to_owned());
    }
    flags
}

/// An invoices table (`id="invoices"`), also on a customer's page; disputed and double-charged
/// invoices are flagged in words.
pub fn table(invoices: &[Invoice]) -> Markup {
    html! {
        table #invoices {
            thead { tr {
                th scope="col" { "Invoice" } th scope="col" { "Customer" } th.num scope="col" { "Amount" }
                th scope="col" { "Status" } th scope="col" { "Due" } th scope="col" { "Next attempt" }
                th.num scope="col" { "Attempts" } th scope="col" { "Failure reason" } th scope="col" { "External id" }
            } }
            tbody {
                @for i in invoices {
                    tr {
                        td { a href={ "/console/invoices/" (i.id) } { (i.id) } }
                        td { a href={ "/console/customers/" (i.customer_id) } { (i.customer_id) } }
                        td.num { (i.amount) }
                        td {
                            (i.status.as_str())
                            @for flag in flags(i) { " " span.flag { (flag) } }
                        }
                        td { (due(i.due_at)) }
                        td { (maybe_time(i.next_attempt_at)) }
                        td.num { (i.attempts) }
                        td { (or_dash(i.failure_reason.map(|r| r.as_str()))) }
                        td { (or_dash(i.external_id.as_ref())) }
                    }
                }
                @if invoices.is_empty() { tr { td colspan="9" { "No invoices match." } } }
            }
        }
    }
}
