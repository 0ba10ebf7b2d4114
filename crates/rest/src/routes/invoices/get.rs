//! `GET /rest/v1/invoices` (by status, customer or external id) and `GET /rest/v1/invoices/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::InvoiceId;

use crate::auth::ReadAccess;
use crate::json::InvoiceJson;
use crate::params::{Query, path_id};
use crate::routes::next_page;
use crate::{ApiError, ApiState, Problem};

/// One page of invoices ordered by id.
#[utoipa::path(
    get,
    path = "/rest/v1/invoices",
    tag = "invoices",
    params(
        ("status" = Option<String>, Query, description = "PENDING, CHARGING, PAID, FAILED or VOID"),
        ("customerId" = Option<i64>, Query, description = "Only this customer's invoices"),
        ("externalId" = Option<String>, Query, description = "Only invoices with this external id (unique per customer: with `customerId`, zero or one)"),
        ("limit" = Option<u16>, Query, description = "Page size, 1 to 1000 (default 1000)"),
        ("after" = Option<i64>, Query, description = "Only invoices with a greater id"),
    ),
    responses(
        (status = 200, description = "Invoices ordered by id; a full page has a `Link: rel=\"next\"` header", body = [InvoiceJson]),
        (status = 400, description = "A malformed query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    _: ReadAccess,
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(req.query_string())?;
    let filter = query.invoice_filter()?;
    let page = query.page::<InvoiceId>()?;
    let invoices = state.invoices.list(filter, page).await?;
    Ok(next_page::page_response(
        &req,
        &invoices,
        page.limit.get(),
        |i| i.id.get(),
        |i| InvoiceJson::from(i),
    ))
}

/// One invoice.
#[utoipa::path(
    get,
    path = "/rest/v1/invoices/{id}",
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 200, body = InvoiceJson),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn one(
    _: ReadAccess,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: InvoiceId = path_id("id", &id)?;
    let invoice = state.invoices.fetch(id).await?;
    Ok(HttpResponse::Ok().json(InvoiceJson::from(&invoice)))
}
