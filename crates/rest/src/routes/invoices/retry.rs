//! `POST /rest/v1/invoices/{id}/retry`: make a FAILED or retry-scheduled invoice due now.

use actix_web::{HttpResponse, web};
use antaeus_models::InvoiceId;

use crate::auth::WriteAccess;
use crate::json::InvoiceJson;
use crate::params::path_id;
use crate::{ApiError, ApiState, Problem};

/// Makes the invoice due now; idempotent.
#[utoipa::path(
    post,
    path = "/rest/v1/invoices/{id}/retry",
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The invoice, now PENDING and due (or already due)", body = InvoiceJson),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No API token configured", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Being charged right now, or paid", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post(
    _: WriteAccess,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: InvoiceId = path_id("id", &id)?;
    let invoice = state.invoices.retry(id).await?;
    Ok(HttpResponse::Ok().json(InvoiceJson::from(&invoice)))
}
