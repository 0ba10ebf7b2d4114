//! `GET /metrics`: Prometheus text exposition.

use actix_web::http::header::ContentType;
use actix_web::{HttpResponse, web};

use crate::ApiState;
use crate::auth::ReadAccess;

/// Charges by outcome, charge latency, runs, invoices by status, the circuit breaker, the
/// outbox backlog and dead events, and HTTP requests by route and status.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"))
)]
pub async fn get(_: ReadAccess, state: web::Data<ApiState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType(
            "text/plain; version=0.0.4; charset=utf-8"
                .parse()
                .expect("a valid media type"),
        ))
        .body(state.metrics.render().await)
}
