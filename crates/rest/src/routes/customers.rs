//! `GET /rest/v1/customers` and `GET /rest/v1/customers/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::CustomerId;

use super::next_page;
use crate::auth::ReadAccess;
use crate::json::CustomerJson;
use crate::params::{Query, path_id};
use crate::{ApiError, ApiState, Problem};

/// One page of customers ordered by id.
#[utoipa::path(
    get,
    path = "/rest/v1/customers",
    tag = "customers",
    params(
        ("limit" = Option<u16>, Query, description = "Page size, 1 to 1000 (default 1000)"),
        ("after" = Option<i64>, Query, description = "Only customers with a greater id"),
    ),
    responses(
        (status = 200, description = "Customers ordered by id", body = [CustomerJson]),
        (status = 400, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    _: ReadAccess,
    req: HttpRequest,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let page = Query::parse(req.query_string())?.page::<CustomerId>()?;
    let customers = state.customers.list(page).await?;
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
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get(
    _: ReadAccess,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: CustomerId = path_id("id", &id)?;
    let customer = state.customers.fetch(id).await?;
    Ok(HttpResponse::Ok().json(CustomerJson::from(&customer)))
}
