//! `POST /rest/v1/customers`: create a customer, idempotently.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::WriteAccess;
use crate::json::{CustomerJson, NewCustomerJson};
use crate::routes::idempotency_key::idempotency_key;
use crate::routes::{created, json_body};
use crate::{ApiError, ApiState, Problem};

/// Creates a customer. The same `externalId` with the same fields answers the existing
/// customer; a request repeated under its `Idempotency-Key` answers as the first did.
#[utoipa::path(
    post,
    path = "/rest/v1/customers",
    tag = "customers",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to repeat: 1 to 255 visible ASCII characters")),
    request_body(content = NewCustomerJson, content_type = "application/json"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Created; `Location` names it", body = CustomerJson),
        (status = 200, description = "Its `externalId` names a customer with the same fields, or the request repeats one made under the same `Idempotency-Key`", body = CustomerJson),
        (status = 400, description = "A malformed body or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No API token configured", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`externalId` names a customer with other fields (`urn:antaeus:problem:external_id_conflict`; the detail names them)", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The Idempotency-Key was used by a different request (`urn:antaeus:problem:idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    _: WriteAccess,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(req.headers())?;
    let customer = json_body::object::<NewCustomerJson>(&body, "customer")?.into_new_customer()?;
    let made = state.customers.create(customer, key).await?;
    Ok(created::response(
        made,
        |customer| format!("/rest/v1/customers/{}", customer.id),
        |customer| CustomerJson::from(customer),
    ))
}
