//! `GET /rest/v1/events` (the outbox by status, invoice and type) and `POST /rest/v1/events/{id}/redeliver`.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::{EventId, EventSeq};

use super::next_page;
use crate::auth::{ReadAccess, WriteAccess};
use crate::json::EventJson;
use crate::params::{Query, path_id};
use crate::{ApiError, ApiState, Problem};

/// One page of billing events in the order they were written, with their delivery state.
#[utoipa::path(
    get,
    path = "/rest/v1/events",
    tag = "events",
    params(
        ("status" = Option<String>, Query, description = "pending, delivered or dead"),
        ("invoiceId" = Option<i64>, Query, description = "Only events about this invoice"),
        ("type" = Option<String>, Query, description = "Only events of this type, e.g. `invoice.paid`; without `invoiceId` a page searches 100,000 events at most, so it may come back short with a `Link` to the next"),
        ("limit" = Option<u16>, Query, description = "Page size, 1 to 1000 (default 1000)"),
        ("after" = Option<i64>, Query, description = "Only events with a greater `seq`"),
    ),
    responses(
        (status = 200, description = "Events ordered by `seq`; a page with more after it has a `Link: rel=\"next\"` header", body = [EventJson]),
        (status = 400, description = "A malformed or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    _: ReadAccess,
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(req.query_string())?.only(&[
        "status",
        "invoiceId",
        "type",
        "limit",
        "after",
    ])?;
    let filter = query.event_filter()?;
    let page = query.page::<EventSeq>()?;
    let found = state.events.page(filter, page).await?;
    Ok(next_page::page_response_to(
        &req,
        "after",
        &found.events,
        found.next.map(EventSeq::get),
        |e| EventJson::from(e),
    ))
}

/// Re-queues an event for delivery: pending, due now, its failure count reset. A dead event is
/// delivered again; so is a delivered one (receivers deduplicate by id); a pending one is made
/// due now.
#[utoipa::path(
    post,
    path = "/rest/v1/events/{id}/redeliver",
    tag = "events",
    params(("id" = String, Path, description = "Event id, as receivers see it (`evt_…`)")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The event, now pending and due", body = EventJson),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No API token configured", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such event", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn redeliver(
    _: WriteAccess,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: EventId = path_id("id", &id)?;
    let event = state.events.redeliver(&id).await?;
    Ok(HttpResponse::Ok().json(EventJson::from(&event)))
}
