//! `/rest/v1/invoices/{id}/refunds`: refunding a paid invoice, and its refunds.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::{InvoiceId, RefundStatus};

use crate::auth::{ReadAccess, WriteAccess};
use crate::json::{RefundDraftJson, RefundJson};
use crate::params::path_id;
use crate::routes::idempotency_key::idempotency_key;
use crate::routes::json_body;
use crate::{ApiError, ApiState, Problem};

/// Refunds part or all of a PAID invoice through the payment provider: recorded before the
/// provider is asked, sent under a key of its own. 201 with the refund once the provider has
/// answered (`succeeded` or `failed`); 202 while its answer is unknown (`pending`: it is asked
/// again under the same key); a request repeated under its `Idempotency-Key` answers 200 with
/// the refund it made.
#[utoipa::path(
    post,
    path = "/rest/v1/invoices/{id}/refunds",
    tag = "invoices",
    params(
        ("id" = i64, Path, description = "Invoice id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to repeat: 1 to 255 visible ASCII characters"),
    ),
    request_body(content = RefundDraftJson, content_type = "application/json"),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 201, description = "Refunded (`succeeded`), or refused by the provider (`failed`)", body = RefundJson),
        (status = 202, description = "Asked; the provider's answer is not known yet (`pending`)", body = RefundJson),
        (status = 200, description = "The refund a request under the same `Idempotency-Key` made", body = RefundJson),
        (status = 400, description = "A malformed id, body or amount", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No API token configured", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not PAID, or more than is left to refund (`urn:antaeus:problem:refund_refused`): nothing was sent", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An amount with more decimals than the invoice's currency, or an Idempotency-Key used by another request", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn post(
    _: WriteAccess,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: InvoiceId = path_id("id", &id)?;
    let key = idempotency_key(req.headers())?;
    // An empty body refunds what is left.
    let draft = if body.iter().all(u8::is_ascii_whitespace) {
        RefundDraftJson::default()
    } else {
        json_body::object::<RefundDraftJson>(&body, "refund")?
    };
    let (amount, reason) = draft.into_parts()?;
    let (refund, made) = state.refunds.refund(id, amount, reason, key).await?;
    let mut answer = match (made, refund.status) {
        (false, _) => HttpResponse::Ok(),
        (true, RefundStatus::Pending) => HttpResponse::Accepted(),
        (true, _) => HttpResponse::Created(),
    };
    Ok(answer.json(RefundJson::from(&refund)))
}

/// The invoice's refunds, oldest first (those made at the provider included).
#[utoipa::path(
    get,
    path = "/rest/v1/invoices/{id}/refunds",
    tag = "invoices",
    params(("id" = i64, Path, description = "Invoice id")),
    responses(
        (status = 200, description = "Its refunds, oldest first", body = Vec<RefundJson>),
        (status = 400, description = "Malformed id", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list(
    _: ReadAccess,
    id: web::Path<String>,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let id: InvoiceId = path_id("id", &id)?;
    state.invoices.fetch(id).await?;
    let refunds = state.refunds.list(id).await?;
    let json: Vec<RefundJson> = refunds.iter().map(RefundJson::from).collect();
    Ok(HttpResponse::Ok().json(json))
}
