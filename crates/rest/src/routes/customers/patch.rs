//! `PATCH /rest/v1/customers/{id}`: change a customer's contact fields, provider references or
//! (while it has no invoice) currency.

use actix_web::{HttpResponse, web};
use antaeus_models::CustomerId;

use crate::auth::WriteAccess;
use crate::json::{CustomerJson, CustomerPatchJson};
use crate::params::path_id;
use crate::routes::json_body;
use crate::{ApiError, ApiState, Problem};

/// Changes a customer as a JSON Merge Patch: absent fields are left, `null` clears, values
/// replace. An empty body or `{}` changes nothing and answers the customer.
#[utoipa::path(
    patch,
    path = "/rest/v1/customers/{id}",
    tag = "customers",
    params(("id" = i64, Path, description = "Customer id")),
    request_body(content = CustomerPatchJson, content_type = "application/merge-patch+json"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "The customer as it is now", body = CustomerJson),
        (status = 400, description = "A malformed id or body", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No API token configured", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such customer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A new currency for a customer that has invoices (`urn:antaeus:problem:currency_locked`); nothing changed", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn update(
    _: WriteAccess,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: CustomerId = path_id("id", &id)?;
    let patch = if body.iter().all(u8::is_ascii_whitespace) {
        CustomerPatchJson::default()
    } else {
        json_body::object::<CustomerPatchJson>(&body, "customer patch")?
    };
    let customer = state.customers.update(id, patch.into_changes()?).await?;
    Ok(HttpResponse::Ok().json(CustomerJson::from(&customer)))
}
