//! `GET /console/invoices/{id}`: an invoice's fields, its dispute and refunds, every provider
//! call made for it, every event about it, and the actions that apply.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::{Invoice, InvoiceId, InvoiceStatus};
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::ConsoleState;
use super::access::Access;
use super::error::ConsoleError;
use super::format::{DASH, due, or_dash, time};
use super::invoice_payments::{dispute, double_charge, refunds as refunds_section};
use super::layout::{Chrome, Section, ok, page};
use super::paging::path_id;
use crate::ApiState;

/// An invoice's page.
pub async fn get(
    access: Access,
    req: HttpRequest,
    state: web::Data<ConsoleState>,
    api: web::Data<ApiState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    let id: InvoiceId = path_id(&id, "invoice")?;
    let invoice = api.invoices.fetch(id).await?;
    let attempts = api.invoices.attempts(id).await?;
    let refunds = api.refunds.list(id).await?;
    let events = state.service.invoice_events(id).await?;
    let now = state.service.now();
    let chrome = Chrome::new(access, &state, &req);
    let body = html! {
        section {
            (double_charge(&invoice))
            (fields(&invoice))
            (actions(&invoice, &chrome, now))
        }
        (dispute(&invoice))
        (refunds_section(&invoice, &refunds, &chrome))
        section {
            h2 { "Provider calls" }
            table #attempts {
                thead { tr {
                    th scope="col" { "#" } th scope="col" { "Time" } th scope="col" { "Idempotency key" }
                    th scope="col" { "Outcome" } th scope="col" { "Decline code" } th.num scope="col" { "Latency" }
                    th scope="col" { "Run" } th scope="col" { "Message" }
                } }
                tbody {
                    @for a in &attempts {
                        tr {
                            td { (a.attempt_number) }
                            td { (time(a.started_at)) }
                            td { (a.idempotency_key) }
                            td { (or_dash(a.outcome.map(|o| o.as_str()))) }
                            td { (or_dash(a.decline_code.as_deref())) }
                            td.num { (latency(a.started_at, a.finished_at)) }
                            td {
                                @if let Some(run) = a.run_id {
                                    a href={ "/console/runs/" (run) } { (run) }
                                } @else { (DASH) }
                            }
                            td { (or_dash(a.message.as_deref())) }
                        }
                    }
                    @if attempts.is_empty() { tr { td colspan="8" { "No provider calls yet." } } }
                }
            }
        }
        section {
            h2 { "Events" }
            table #events {
                thead { tr {
                    th scope="col" { "Time" } th scope="col" { "Type" } th scope="col" { "Delivery" }
                    th scope="col" { "Event id" }
                } }
                tbody {
                    @for e in &events {
                        tr {
                            td { (time(e.created_at)) }
                            td { (e.kind) }
                            td { (e.status.as_str()) @if e.failures > 0 { " (" (e.failures) " failed)" } }
                            td { (e.id) }
                        }
                    }
                    @if events.is_empty() { tr { td colspan="4" { "No events about this invoice." } } }
                }
            }
        }
    };
    let title = format!("Invoice {}", invoice.id);
    Ok(ok(page(Section::Invoices, &title, &chrome, false, body)))
}

fn latency(started: DateTime<Utc>, finished: Option<DateTime<Utc>>) -> String {
    finished.map_or_else(
        || DASH.to_owned(),
        |f| format!("{} ms", (f - started).num_milliseconds()),
    )
}

/// When the invoice is next charged: a PENDING one at its next attempt, or its due date.
fn next_attempt(invoice: &Invoice) -> String {
    if invoice.status == InvoiceStatus::Pending {
        invoice
            .next_attempt_at
            .map_or_else(|| due(invoice.due_at), time)
    } else {
        DASH.to_owned()
    }
}

fn fields(i: &Invoice) -> Markup {
    html! {
        dl #invoice-fields {
            dt { "Status" } dd #invoice-status { (i.status.as_str()) }
            dt { "Customer" } dd { a href={ "/console/customers/" (i.customer_id) } { (i.customer_id) } }
            dt { "Amount" } dd #invoice-amount { (i.amount) }
            dt { "Refunded" } dd #invoice-refunded { (i.refunded) }
            dt { "Due" } dd { (due(i.due_at)) }
            dt { "Next attempt" } dd #invoice-next-attempt { (next_attempt(i)) }
            dt { "Attempts" } dd { (i.attempts) }
            dt { "Failure reason" } dd #invoice-failure-reason { (or_dash(i.failure_reason.map(|r| r.as_str()))) }
            dt { "External id" } dd { (or_dash(i.external_id.as_ref())) }
            dt { "Description" } dd { (or_dash(i.description.as_deref())) }
        }
    }
}

/// Retry now: FAILED, or PENDING with a retry scheduled later.
pub fn can_retry(i: &Invoice, now: DateTime<Utc>) -> bool {
    match i.status {
        InvoiceStatus::Failed => true,
        InvoiceStatus::Pending => i.next_attempt_at.is_some_and(|t| t > now),
        _ => false,
    }
}

/// Void: PENDING or FAILED (not while it is being charged).
pub fn can_void(i: &Invoice) -> bool {
    matches!(i.status, InvoiceStatus::Pending | InvoiceStatus::Failed)
}

fn actions(i: &Invoice, chrome: &Chrome, now: DateTime<Utc>) -> Markup {
    let retry = can_retry(i, now);
    let void = can_void(i);
    html! {
        @if retry || void {
            @if chrome.access.can_act() {
                div.actions {
                    @if retry {
                        form method="post" action={ "/console/invoices/" (i.id) "/retry" }
                            data-confirm={ "Make invoice " (i.id) " due now?" } {
                            (chrome.csrf_input())
                            button #retry-now type="submit" { "Retry now" }
                        }
                    }
                    @if void {
                        form method="post" action={ "/console/invoices/" (i.id) "/void" }
                            data-confirm={ "Void invoice " (i.id) "? It will never be charged." } {
                            (chrome.csrf_input())
                            button #void.danger type="submit" { "Void" }
                        }
                    }
                }
            } @else {
                (chrome.actions_note())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId, Money};
    use chrono::TimeDelta;

    use super::*;

    fn invoice(status: InvoiceStatus, next: Option<DateTime<Utc>>) -> Invoice {
        Invoice {
            next_attempt_at: next,
            ..Invoice::new(
                InvoiceId::new(1).unwrap(),
                CustomerId::new(1).unwrap(),
                Money::from_minor(100, Currency::EUR).unwrap(),
                status,
            )
        }
    }

    #[test]
    fn actions_apply_where_the_state_machine_allows_them() {
        let now = Utc::now();
        let later = Some(now + TimeDelta::hours(1));
        assert!(can_retry(&invoice(InvoiceStatus::Failed, None), now));
        assert!(can_retry(&invoice(InvoiceStatus::Pending, later), now));
        assert!(
            !can_retry(&invoice(InvoiceStatus::Pending, None), now),
            "due already"
        );
        assert!(!can_retry(&invoice(InvoiceStatus::Paid, None), now));
        assert!(can_void(&invoice(InvoiceStatus::Pending, None)));
        assert!(can_void(&invoice(InvoiceStatus::Failed, None)));
        for status in [
            InvoiceStatus::Charging,
            InvoiceStatus::Paid,
            InvoiceStatus::Void,
        ] {
            assert!(!can_void(&invoice(status, None)), "{status:?}");
        }
    }
}
