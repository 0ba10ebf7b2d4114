//! `POST /rest/v1/billing/runs` (start a run), `GET /rest/v1/billing/runs` and
//! `GET /rest/v1/billing/runs/{id}`.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_core::billing::Triggered;
use antaeus_models::RunId;

use super::{next_page, trigger_request};
use crate::auth::{ReadAccess, WriteAccess};
use crate::json::RunJson;
use crate::params::{Query, path_id};
use crate::{ApiError, ApiState, Problem};

/// Starts a billing run in the background and answers at once.
#[utoipa::path(
    post,
    path = "/rest/v1/billing/runs",
    tag = "billing",
    params(("Idempotency-Key" = Option<String>, Header, description = "Names the run; wins over the body")),
    request_body(
        description = "Empty, `{\"idempotencyKey\": \"…\"}`, or an AWS EventBridge event as delivered (its `id` is the key)",
        content = Object, content_type = "application/json"
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 202, description = "Run started (or resumed after its instance died); `Location` names it", body = RunJson),
        (status = 200, description = "The key names an existing run; nothing started", body = RunJson),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No API token configured", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The key was used by a different request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post(
    _: WriteAccess,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(req.query_string())?;
    let request = trigger_request::run_request(req.headers(), &query, &body)?;
    let triggered = state.runs.trigger(&request).await?;
    let status = match triggered {
        Triggered::Started(_) | Triggered::Resumed(_) => StatusCode::ACCEPTED,
        Triggered::Existing(_) => StatusCode::OK,
    };
    let run = triggered.run();
    Ok(HttpResponse::build(status)
        .insert_header((LOCATION, format!("/rest/v1/billing/runs/{}", run.id)))
        .json(RunJson::summary(run)))
}

/// One page of runs, newest first.
#[utoipa::path(
    get,
    path = "/rest/v1/billing/runs",
    tag = "billing",
    params(
        ("limit" = Option<u16>, Query, description = "Page size, 1 to 1000 (default 1000)"),
        ("before" = Option<i64>, Query, description = "Only runs older than this id"),
    ),
    responses(
        (status = 200, description = "Runs, newest first; a full page has a `Link: rel=\"next\"` header", body = [RunJson]),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    _: ReadAccess,
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(req.query_string())?.only(&["limit", "before"])?;
    let page = query.page_with_cursor::<RunId>("before")?;
    let runs = state.runs.list(page).await?;
    Ok(next_page::page_response_with_cursor(
        &req,
        "before",
        &runs,
        page.limit.get(),
        |r| r.id.get(),
        RunJson::summary,
    ))
}

/// One run, with live counts and its provider calls by outcome.
#[utoipa::path(
    get,
    path = "/rest/v1/billing/runs/{id}",
    tag = "billing",
    params(("id" = i64, Path, description = "Run id")),
    responses(
        (status = 200, body = RunJson),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    _: ReadAccess,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: RunId = path_id("id", &id)?;
    let view = state.runs.fetch(id).await?;
    Ok(HttpResponse::Ok().json(RunJson::detailed(&view)))
}
