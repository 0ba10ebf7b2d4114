//! `GET /rest/v1/invoices/{id}/attempts`: every provider call made for an invoice.

use actix_web::{HttpResponse, web};
use antaeus_models::InvoiceId;

use crate::auth::ReadAccess;
use crate::json::AttemptJson;
use crate::params::path_id;
use crate::{ApiError, ApiState, Problem};

/// The invoice's charge attempts, oldest first.
#[utoipa::path(
    get,
    path = "/rest/v1/invoices/{id}/attempts",
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "One entry per provider call, oldest first", body = [AttemptJson]),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    _: ReadAccess,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: InvoiceId = path_id("id", &id)?;
    let attempts = state.invoices.attempts(id).await?;
    Ok(HttpResponse::Ok().json(attempts.iter().map(AttemptJson::from).collect::<Vec<_>>()))
}
