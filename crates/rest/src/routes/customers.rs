//! `GET /rest/v1/customers` and `GET /rest/v1/customers/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::CustomerId;

use super::next_page;
use crate::json::CustomerJson;
use crate::params::{Query, path_id};
use crate::{ApiError, ApiState};

/// One page of customers ordered by id (`?limit=`, `?after=`).
pub async fn list(req: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
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
pub async fn get(
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: CustomerId = path_id("id", &id)?;
    let customer = state.customers.fetch(id).await?;
    Ok(HttpResponse::Ok().json(CustomerJson::from(&customer)))
}
