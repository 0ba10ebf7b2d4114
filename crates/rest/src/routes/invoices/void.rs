//! `POST /rest/v1/invoices/{id}/void`: cancel an invoice that has not been paid.

use actix_web::{HttpResponse, web};
use antaeus_models::InvoiceId;

use crate::auth::WriteAccess;
use crate::json::InvoiceJson;
use crate::params::path_id;
use crate::{ApiError, ApiState, Problem};

/// Voids a PENDING or FAILED invoice: it is never charged and never due again (an
/// `invoice.voided` event is sent). Voiding a VOID invoice changes nothing. A void racing a
/// billing run either comes first (the invoice is never charged) or is refused with 409.
#[utoipa::path(
    post,
    path = "/rest/v1/invoices/{id}/void",
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The invoice, VOID (now or already)", body = InvoiceJson),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No API token configured", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such invoice", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Being charged right now (`urn:antaeus:problem:invoice_charging`: it may be paid), or paid (`urn:antaeus:problem:invoice_paid`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn void(
    _: WriteAccess,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: InvoiceId = path_id("id", &id)?;
    let invoice = state.invoices.void(id).await?;
    Ok(HttpResponse::Ok().json(InvoiceJson::from(&invoice)))
}
