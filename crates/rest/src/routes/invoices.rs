//! `GET /rest/v1/invoices` and `GET /rest/v1/invoices/{id}`.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::InvoiceId;

use super::next_page;
use crate::json::InvoiceJson;
use crate::params::{Query, path_id};
use crate::{ApiError, ApiState};

/// One page of invoices ordered by id (`?status=`, `?customerId=`, `?limit=`, `?after=`).
pub async fn list(req: HttpRequest, state: web::Data<ApiState>) -> Result<HttpResponse, ApiError> {
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
pub async fn get(
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: InvoiceId = path_id("id", &id)?;
    let invoice = state.invoices.fetch(id).await?;
    Ok(HttpResponse::Ok().json(InvoiceJson::from(&invoice)))
}
