//! `GET /rest/v1/customers` (optionally by external id) and `GET /rest/v1/customers/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::{CustomerId, ExternalId};

use crate::auth::ReadAccess;
use crate::json::CustomerJson;
use crate::params::{Query, path_id};
use crate::routes::next_page;
use crate::{ApiError, ApiState, Problem};

/// One page of customers ordered by id; with `externalId`, the customer it names (zero or
/// one).
#[utoipa::path(
    get,
    path = "/rest/v1/customers",
    tag = "customers",
    params(
        ("externalId" = Option<String>, Query, description = "Only the customer with this external id: a list of zero or one"),
        ("limit" = Option<u16>, Query, description = "Page size, 1 to 1000 (default 1000)"),
        ("after" = Option<i64>, Query, description = "Only customers with a greater id"),
    ),
    responses(
        (status = 200, description = "Customers ordered by id; a full page has a `Link: rel=\"next\"` header", body = [CustomerJson]),
        (status = 400, description = "A malformed or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    _: ReadAccess,
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(req.query_string())?.only(&["externalId", "limit", "after"])?;
    let page = query.page::<CustomerId>()?;
    let customers = match query.get::<ExternalId>("externalId")? {
        // Filtered like any page, so a client reads both answers the same way.
        Some(external) => state
            .customers
            .find(&external)
            .await?
            .into_iter()
            .filter(|c| page.after.is_none_or(|after| c.id > after))
            .collect(),
        None => state.customers.list(page).await?,
    };
    Ok(next_page::page_response(
        &req,
        &customers,
        page.limit.get(),
        |c| c.id.get(),
        |c| CustomerJson::from(c),
    ))
}

/// One customer.
#[utoipa::path(
    get,
    path = "/rest/v1/customers/{id}",
    tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    responses(
        (status = 200, body = CustomerJson),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn one(
    _: ReadAccess,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: CustomerId = path_id("id", &id)?;
    let customer = state.customers.fetch(id).await?;
    Ok(HttpResponse::Ok().json(CustomerJson::from(&customer)))
}
