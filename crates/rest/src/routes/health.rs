//! `GET /rest/health` (the process is up) and `GET /rest/health/ready` (it can serve).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::{ApiState, Problem};

/// Answers the JSON string `"ok"`, as the original Antaeus did.
#[utoipa::path(
    get,
    path = "/rest/health",
    tag = "health",
    responses((status = 200, description = "The process is up", body = String, example = json!("ok")))
)]
pub async fn get() -> HttpResponse {
    HttpResponse::Ok().json("ok")
}

/// 200 when the database is reachable and migrated, 503 with the reason otherwise.
#[utoipa::path(
    get,
    path = "/rest/health/ready",
    tag = "health",
    responses(
        (status = 200, description = "Ready to serve", body = String, example = json!("ready")),
        (status = 503, description = "Not ready", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn ready(state: web::Data<ApiState>) -> HttpResponse {
    match state.readiness.check().await {
        Ok(()) => HttpResponse::Ok().json("ready"),
        Err(reason) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, reason).into_response(),
    }
}
