//! `GET /rest/health`: the process is up.

use actix_web::HttpResponse;

/// Answers the JSON string `"ok"`, as the original Antaeus did.
pub async fn get() -> HttpResponse {
    HttpResponse::Ok().json("ok")
}
