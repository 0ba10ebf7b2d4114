//! `POST /webhooks/stripe`: the payment provider's events (Stripe's webhooks). Authenticated by
//! their signature (`Stripe-Signature`, with `ANTAEUS_STRIPE_WEBHOOK_SECRET`), not by a token.

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_core::service::Received;
use serde::Serialize;

use crate::{ApiError, ApiState, Problem};

/// The answer to a delivery the provider sent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReceivedJson {
    /// Always `true`: the event was taken.
    pub received: bool,
    /// `applied`, `duplicate` (handled before) or `ignored`.
    pub outcome: &'static str,
    /// What Antaeus did with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Takes one event from Stripe. A bad or stale signature is 400 and changes nothing; an event
/// already handled, or of a type Antaeus does not act on, is 200; an event about an invoice
/// being charged at this moment is 409, and Stripe delivers it again later.
#[utoipa::path(
    post,
    path = "/webhooks/stripe",
    tag = "webhooks",
    request_body(content = Object, description = "A Stripe event, as Stripe signs and sends it", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "t=<unix seconds>,v1=<HMAC-SHA256>")),
    responses(
        (status = 200, description = "Taken (applied, a duplicate, or ignored)", body = ReceivedJson),
        (status = 400, description = "The signature does not verify (or is older than 5 minutes), or the body is not an event", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Webhooks are not configured (ANTAEUS_STRIPE_WEBHOOK_SECRET)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The invoice is being charged right now: delivered again later", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stripe(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let signature = req
        .headers()
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok());
    let received = state.payments.receive(signature, &body).await?;
    let (outcome, detail) = match received {
        Received::Applied(said) => ("applied", Some(said)),
        Received::Duplicate => ("duplicate", None),
        Received::Ignored(why) => ("ignored", Some(why)),
    };
    Ok(HttpResponse::Ok().json(ReceivedJson {
        received: true,
        outcome,
        detail,
    }))
}
