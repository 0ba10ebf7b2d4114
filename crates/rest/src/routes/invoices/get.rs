//! `GET /rest/v1/invoices` (by status, customer, external id, currency, due or overdue) and `GET /rest/v1/invoices/{id}`.

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
        ("customerExternalId" = Option<String>, Query, description = "Only the invoices of the customer with this external id (none when there is no such customer)"),
        ("currency" = Option<String>, Query, description = "EUR, USD, DKK, SEK or GBP: only invoices in this currency"),
        ("due" = Option<String>, Query, description = "`due`: PENDING invoices a run started now would charge; `overdue`: unpaid (PENDING or FAILED) invoices past their due date. Searches a stretch of 100,000 ids per page, so a page may come back short with a `Link` to the next"),
        ("externalId" = Option<String>, Query, description = "Only invoices with this external id (unique per customer: with `customerId`, zero or one)"),
        ("limit" = Option<u16>, Query, description = "Page size, 1 to 1000 (default 1000)"),
        ("after" = Option<i64>, Query, description = "Only invoices with a greater id"),
    ),
    responses(
        (status = 200, description = "Invoices ordered by id; a full page has a `Link: rel=\"next\"` header", body = [InvoiceJson]),
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
        "customerId",
        "customerExternalId",
        "externalId",
        "currency",
        "due",
        "limit",
        "after",
    ])?;
    let mut filter = query.invoice_filter()?;
    let due = query.due()?;
    let page = query.page::<InvoiceId>()?;
    if let Some(external) = query.customer_external_id()? {
        // No such customer, or another than `customerId` names: no invoice matches.
        let found = state.customers.find(&external).await?;
        let Some(customer) = found.filter(|c| filter.customer_id.is_none_or(|id| id == c.id))
        else {
            return Ok(HttpResponse::Ok().json(Vec::<InvoiceJson>::new()));
        };
        filter.customer_id = Some(customer.id);
    }
    let found = state.invoices.page(filter, due, page).await?;
    Ok(next_page::page_response_to(
        &req,
        "after",
        &found.invoices,
        found.next.map(InvoiceId::get),
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
