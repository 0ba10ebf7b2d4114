//! `GET /console`: invoices by status, this month, recent runs, provider health, the outbox,
//! open disputes and invoices charged twice, and the form that starts a run.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_core::billing::BreakerState;
use antaeus_core::service::Overview;
use antaeus_models::{InvoiceStatus, MonthlyStat};
use maud::{Markup, html};

use super::ConsoleState;
use super::access::Access;
use super::charts::{legend, run_segments, stacked_bar};
use super::error::ConsoleError;
use super::format::time;
use super::keys::random_uuid;
use super::layout::{Chrome, Section, ok, page};

/// The overview page.
pub async fn get(
    access: Access,
    req: HttpRequest,
    state: web::Data<ConsoleState>,
) -> Result<HttpResponse, ConsoleError> {
    let overview = state.service.overview().await?;
    let chrome = Chrome::new(access, &state, &req);
    Ok(ok(page(
        Section::Overview,
        "Overview",
        &chrome,
        false,
        body(&overview, &chrome),
    )))
}

fn body(o: &Overview, chrome: &Chrome) -> Markup {
    let month = o.now.format("%B %Y").to_string();
    html! {
        section {
            h2 { "Invoices by status" }
            table #invoice-totals {
                thead { tr { th scope="col" { "Status" } th scope="col" { "Currency" } th.num scope="col" { "Invoices" } th.num scope="col" { "Amount" } } }
                tbody {
                    @for status in InvoiceStatus::ALL.iter().filter(|s| **s != InvoiceStatus::Charging) {
                        @for t in o.totals.iter().filter(|t| t.status == *status) {
                            tr {
                                td { a href={ "/console/invoices?status=" (status.as_str()) } { (status.as_str()) } }
                                td { (t.amount.currency()) }
                                td.num { (t.invoices) }
                                td.num { (t.amount) }
                            }
                        }
                    }
                    @if o.totals.is_empty() {
                        tr { td colspan="4" { "No invoices yet." } }
                    }
                }
            }
        }
        div.grid {
            section {
                h2 { "Collected in " (month) }
                table #collected {
                    thead { tr { th scope="col" { "Currency" } th.num scope="col" { "Payments" } th.num scope="col" { "Amount" } } }
                    tbody {
                        @for s in &o.collected {
                            tr {
                                td { (s.currency.map(|c| c.as_str()).unwrap_or("")) }
                                td.num { (s.count) }
                                td.num { @if let Some(a) = s.amount { (a) } }
                            }
                        }
                        @if o.collected.is_empty() { tr { td colspan="3" { "Nothing collected this month yet." } } }
                    }
                }
            }
            section #provider-health {
                h2 { "Provider health" }
                dl {
                    dt { "Circuit breaker" }
                    dd #breaker-state { (breaker(o.breaker)) }
                    dt { "Calls in flight" }
                    dd #calls-in-flight { (o.calls_in_flight) }
                }
            }
            section #outbox {
                h2 { "Outbox" }
                dl {
                    dt { "Backlog (waiting for delivery)" }
                    dd { (backlog(o.outbox_backlog, o.now - o.outbox_backlog_at)) }
                    dt { "Dead events" }
                    dd #outbox-dead { (o.dead_events) }
                }
            }
            section #disputes {
                h2 { "Disputes" }
                dl {
                    dt { "Open disputes" }
                    dd { a #open-disputes href="/console/invoices?disputed=open" { (o.open_disputes) } }
                    dt { "Charged twice" }
                    dd { a #double-charged href="/console/invoices?charged_twice=1" { (o.double_charged) } }
                }
                @if o.open_disputes > 0 {
                    p.note { "Cardholders dispute these payments: respond at the provider before their evidence is due." }
                }
                @if o.double_charged > 0 {
                    p.note { "These customers paid more than once: refund one of the payments." }
                }
            }
        }
        div.grid {
            section {
                h2 { "Failure reasons in " (month) }
                (counts_table("failure-reasons", "Reason", &o.failure_reasons, "No invoice failed this month."))
            }
            section {
                h2 { "Decline codes in " (month) }
                (counts_table("decline-codes", "Decline code", &o.decline_codes, "No declines this month."))
            }
        }
        section #recent-runs {
            h2 { "Recent runs" }
            (legend(&["paid", "declined", "failed", "retry_scheduled", "released"]))
            div.run-bars {
                ul {
                    @for run in &o.recent_runs {
                        li {
                            a href={ "/console/runs/" (run.id) } {
                                "Run " (run.id) " · " (run.status.as_str()) " · " (time(run.started_at)) " · " (run.idempotency_key)
                                br;
                                (stacked_bar(&run_segments(&run.counts)))
                            }
                        }
                    }
                }
                @if o.recent_runs.is_empty() { p.note { "No runs yet." } }
            }
            p { a href="/console/runs" { "All runs" } }
        }
        (start_run_form(chrome))
    }
}

fn breaker(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "closed (calls flow)",
        BreakerState::Open => "open (no calls until the cool-down ends)",
        BreakerState::HalfOpen => "half-open (probing)",
    }
}

fn counts_table(id: &str, what: &str, stats: &[MonthlyStat], empty: &str) -> Markup {
    html! {
        table id=(id) {
            thead { tr { th scope="col" { (what) } th.num scope="col" { "Count" } } }
            tbody {
                @for s in stats {
                    tr {
                        td { @if s.label.is_empty() { "(none given)" } @else { (s.label) } }
                        td.num { (s.count) }
                    }
                }
                @if stats.is_empty() { tr { td colspan="2" { (empty) } } }
            }
        }
    }
}

fn start_run_form(chrome: &Chrome) -> Markup {
    let key = format!("console-{}", random_uuid());
    html! {
        section #start-run-section {
            h2 { "Start a run" }
            @if chrome.access.can_act() {
                form.stack method="post" action="/console/runs" data-confirm="Start this billing run?" {
                    (chrome.csrf_input())
                    p {
                        label for="run-key" { "Idempotency key" }
                        input #run-key name="key" value=(key) required maxlength="255" size="44";
                    }
                    p.note { "The same key always names the same run, here and in the API: starting it twice starts it once." }
                    fieldset {
                        legend { "Scope" }
                        input #scope-all type="radio" name="scope" value="all" checked;
                        label for="scope-all" { "All due invoices" }
                        " "
                        input #scope-retries type="radio" name="scope" value="retries";
                        label for="scope-retries" { "Retries only" }
                    }
                    button #start-run type="submit" { "Start run" }
                }
            } @else {
                (chrome.actions_note())
            }
        }
    }
}

/// The outbox's backlog, and how old its count is once that is a second or more (the count is
/// kept for ten times what it cost: see `ConsoleService::overview`).
fn backlog(events: u64, age: chrono::TimeDelta) -> Markup {
    let seconds = age.num_seconds();
    html! {
        span #outbox-backlog { (events) }
        @if seconds >= 1 { " " small.note #outbox-backlog-age { "(counted " (seconds) " s ago)" } }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::backlog;

    #[test]
    fn the_backlog_says_how_old_its_count_is_from_a_second_on() {
        let shown = |ms| backlog(1_234, TimeDelta::milliseconds(ms)).into_string();
        assert_eq!(shown(0), r#"<span id="outbox-backlog">1234</span>"#);
        assert_eq!(shown(999), shown(0));
        assert_eq!(
            shown(7_400),
            r#"<span id="outbox-backlog">1234</span> <small class="note" id="outbox-backlog-age">(counted 7 s ago)</small>"#
        );
    }
}
