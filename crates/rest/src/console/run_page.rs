//! `GET /console/runs/{id}`: a run's counts, its calls by outcome, the chart of its outcomes
//! over time and its problem calls; a RUNNING run's page reloads itself every 2 seconds.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::{RunId, RunStatus};
use maud::html;
use serde::Deserialize;

use super::ConsoleState;
use super::access::Access;
use super::charts::{legend, run_chart};
use super::error::ConsoleError;
use super::format::{maybe_time, or_dash, time};
use super::layout::{Chrome, Section, ok, page};
use super::paging::{PAGE_ROWS, path_id};

/// The run page's query.
#[derive(Deserialize)]
pub struct RunQuery {
    /// Problem calls after this one.
    after: Option<i64>,
}

/// A run's page.
pub async fn get(
    access: Access,
    req: HttpRequest,
    state: web::Data<ConsoleState>,
    id: web::Path<String>,
    query: web::Query<RunQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let id: RunId = path_id(&id, "run")?;
    let view = state.service.run_page(id, query.after, PAGE_ROWS).await?;
    let run = &view.run;
    let running = run.status == RunStatus::Running;
    let chrome = Chrome::new(access, &state, &req);
    let c = &run.counts;
    let body = html! {
        section {
            dl #run-fields {
                dt { "Status" } dd { span #run-status { (run.status.as_str()) } }
                dt { "Idempotency key" } dd { (run.idempotency_key) }
                dt { "Scope" } dd { (run.scope.as_str()) }
                dt { "Started by" } dd { (run.trigger.as_str()) }
                dt { "Started" } dd { (time(run.started_at)) }
                dt { "Finished" } dd { (maybe_time(run.finished_at)) }
                @if let Some(reason) = &run.abort_reason {
                    dt { "Aborted because" } dd { (reason) }
                }
                dt { "Instance" } dd { (run.instance_id) }
            }
            @if running { p.note { "Running: this page refreshes every 2 seconds." } }
        }
        div.grid {
            section {
                h2 { "Invoices" }
                table #run-counts {
                    thead { tr { th scope="col" { "Result" } th.num scope="col" { "Invoices" } } }
                    tbody {
                        tr { td { "Claimed" } td.num { (c.claimed) } }
                        tr { td { "Paid" } td.num { (c.paid) } }
                        tr { td { "Declined (retry scheduled)" } td.num { (c.declined) } }
                        tr { td { "Failed" } td.num { (c.failed) } }
                        tr { td { "Outcome unknown (retried later)" } td.num { (c.retry_scheduled) } }
                        tr { td { "Released unsent" } td.num { (c.released) } }
                    }
                }
            }
            section {
                h2 { "Provider calls by outcome" }
                table #run-calls {
                    thead { tr { th scope="col" { "Outcome" } th.num scope="col" { "Calls" } } }
                    tbody {
                        @for (outcome, n) in &view.calls.by_outcome {
                            tr { td { (outcome.as_str()) } td.num { (n) } }
                        }
                        @if view.calls.by_outcome.is_empty() { tr { td colspan="2" { "No calls finished yet." } } }
                    }
                }
            }
        }
        section {
            h2 { "Outcomes over the run" }
            (legend(&["charged", "declined", "failed", "network_error", "abandoned"]))
            (run_chart(&view.minutes, &view.calls))
        }
        section {
            h2 { "Invoices declined or failed in this run" }
            table #run-problems {
                thead { tr {
                    th scope="col" { "Invoice" } th scope="col" { "Time" } th scope="col" { "Outcome" }
                    th scope="col" { "Decline code" } th scope="col" { "Message" } th scope="col" { "Key" }
                } }
                tbody {
                    @for p in &view.problems {
                        @let a = &p.attempt;
                        tr {
                            td { a href={ "/console/invoices/" (a.invoice_id) } { (a.invoice_id) } }
                            td { (maybe_time(a.finished_at)) }
                            td { (or_dash(a.outcome.map(|o| o.as_str()))) }
                            td { (or_dash(a.decline_code.as_deref())) }
                            td { (or_dash(a.message.as_deref())) }
                            td { (a.idempotency_key) }
                        }
                    }
                    @if view.problems.is_empty() { tr { td colspan="6" { "None." } } }
                }
            }
            @if let Some(next) = view.next_problems {
                p.pager { a #next-page rel="next" href={ "/console/runs/" (run.id) "?after=" (next) } { "Next" } }
            }
        }
    };
    let title = format!("Run {}", run.id);
    Ok(ok(page(Section::Runs, &title, &chrome, running, body)))
}
