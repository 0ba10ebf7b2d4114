//! Answers to create requests: 201 for a resource made now, 200 for one found (the same
//! external id with the same fields, or a request repeated under its idempotency key).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use antaeus_core::service::Created;
use serde::Serialize;

/// 201 when made now, else 200.
pub fn status<T>(created: &Created<T>) -> StatusCode {
    if created.is_new() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    }
}

/// The response to a create: its status, a `Location` header naming the resource, and its
/// JSON.
pub fn response<T, J: Serialize>(
    created: Created<T>,
    location: impl FnOnce(&T) -> String,
    to_json: impl FnOnce(&T) -> J,
) -> HttpResponse {
    let status = status(&created);
    let resource = created.into_inner();
    HttpResponse::build(status)
        .insert_header((LOCATION, location(&resource)))
        .json(to_json(&resource))
}
