//! `GET /console/runs` (newest first, keyset pages) and `POST /console/runs` (start a run).

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_core::ServiceError;
use antaeus_core::billing::{BillingError, RunRequest, Triggered};
use antaeus_models::{IdempotencyKey, RunId, RunScope, RunTrigger};
use maud::html;
use serde::Deserialize;

use super::ConsoleState;
use super::access::Access;
use super::charts::{run_segments, stacked_bar};
use super::error::ConsoleError;
use super::flash::Flash;
use super::format::{maybe_time, time};
use super::layout::{Chrome, Section, ok, page};
use super::paging::{PAGE_ROWS, cursor, page_limit};
use super::sign_in::to;

/// The runs list's query.
#[derive(Deserialize)]
pub struct RunsQuery {
    /// Only runs older than this one.
    before: Option<String>,
}

/// One page of runs, newest first.
pub async fn list(
    access: Access,
    req: HttpRequest,
    state: web::Data<ConsoleState>,
    query: web::Query<RunsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let before = cursor::<RunId>("before", query.before.as_deref())?;
    let runs = state.service.runs(before, page_limit()).await?;
    let chrome = Chrome::new(access, &state, &req);
    let body = html! {
        section {
            table #runs {
                thead { tr {
                    th scope="col" { "Run" } th scope="col" { "Status" } th scope="col" { "Scope" }
                    th scope="col" { "Key" } th scope="col" { "Started" } th scope="col" { "Finished" }
                    th.num scope="col" { "Claimed" } th scope="col" { "Results" }
                } }
                tbody {
                    @for run in &runs {
                        tr {
                            td { a href={ "/console/runs/" (run.id) } { (run.id) } }
                            td { (run.status.as_str()) }
                            td { (run.scope.as_str()) }
                            td { (run.idempotency_key) }
                            td { (time(run.started_at)) }
                            td { (maybe_time(run.finished_at)) }
                            td.num { (run.counts.claimed) }
                            td { (stacked_bar(&run_segments(&run.counts))) }
                        }
                    }
                    @if runs.is_empty() { tr { td colspan="8" { "No runs." } } }
                }
            }
            @if runs.len() >= usize::from(PAGE_ROWS) {
                @if let Some(last) = runs.last() {
                    p.pager { a #next-page rel="next" href={ "/console/runs?before=" (last.id) } { "Older" } }
                }
            }
        }
    };
    Ok(ok(page(Section::Runs, "Runs", &chrome, false, body)))
}

/// The start-run form's fields.
#[derive(Deserialize)]
pub struct StartRun {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    scope: String,
}

/// Starts the run the form names, as `POST /rest/v1/billing/runs` does with the same key:
/// the same key and scope name the same run. Off to the run's page.
pub async fn start(
    access: Access,
    state: web::Data<ConsoleState>,
    api: web::Data<crate::ApiState>,
    form: web::Form<StartRun>,
) -> Result<HttpResponse, ConsoleError> {
    access.authorize(&form.csrf, &state)?;
    let Ok(key) = IdempotencyKey::parse(form.key.trim()) else {
        return Ok(to(format!("/console?flash={}", Flash::BadKey.code())));
    };
    let scope = match form.scope.as_str() {
        "" | "all" => RunScope::All,
        "retries" => RunScope::Retries,
        other => return Err(ConsoleError::BadRequest(format!("unknown scope {other:?}"))),
    };
    let request = RunRequest::new(key, RunTrigger::Console, scope);
    match api.runs.trigger(&request).await {
        Ok(triggered) => {
            let flash = match triggered {
                Triggered::Started(_) | Triggered::Resumed(_) => Flash::RunStarted,
                Triggered::Existing(_) => Flash::RunExisting,
            };
            Ok(to(format!(
                "/console/runs/{}?flash={}",
                triggered.run().id,
                flash.code()
            )))
        }
        Err(ServiceError::Billing(BillingError::KeyReused { .. })) => {
            Ok(to(format!("/console?flash={}", Flash::KeyReused.code())))
        }
        Err(err) => Err(err.into()),
    }
}
