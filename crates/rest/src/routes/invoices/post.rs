//! `POST /rest/v1/invoices`: create an invoice, idempotently.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::auth::WriteAccess;
use crate::json::{InvoiceDraftJson, InvoiceJson};
use crate::routes::idempotency_key::idempotency_key;
use crate::routes::{created, json_body};
use crate::{ApiError, ApiState, Problem};

/// Creates a PENDING invoice for an existing customer, in the customer's currency. The same
/// `externalId` for the same customer with the same fields answers the existing invoice; a
/// request repeated under its `Idempotency-Key` answers as the first did.
#[utoipa::path(
    post,
    path = "/rest/v1/invoices",
    tag = "invoices",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to repeat: 1 to 255 visible ASCII characters")),
    request_body(content = InvoiceDraftJson, content_type = "application/json"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Created, PENDING; `Location` names it", body = InvoiceJson),
        (status = 200, description = "Its `externalId` names an invoice of the customer with the same fields, or the request repeats one made under the same `Idempotency-Key`", body = InvoiceJson),
        (status = 400, description = "A malformed body (including an amount that is not positive or has more decimals than the currency) or Idempotency-Key", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No API token configured", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`externalId` names an invoice of the customer with other fields (`urn:antaeus:problem:external_id_conflict`; the detail names them)", body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such customer (`urn:antaeus:problem:unknown_customer`), a currency other than the customer's (`urn:antaeus:problem:currency_mismatch`), or an Idempotency-Key used by a different request (`urn:antaeus:problem:idempotency_key_reused`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    _: WriteAccess,
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let key = idempotency_key(req.headers())?;
    let draft = json_body::object::<InvoiceDraftJson>(&body, "invoice")?.into_draft()?;
    let made = state.invoices.create(draft, key).await?;
    Ok(created::response(
        made,
        |invoice| format!("/rest/v1/invoices/{}", invoice.id),
        |invoice| InvoiceJson::from(invoice),
    ))
}
