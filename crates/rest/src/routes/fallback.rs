//! Answers for requests no route takes: unknown paths and unsupported methods.

use actix_web::{HttpRequest, HttpResponse};

use crate::ApiError;

/// 404 with a problem body for a path the API does not have.
pub async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NotFound(format!("no resource at {}", req.path())))
}

/// 405 with a problem body and an `Allow` header for a method the resource does not support.
pub fn method_not_allowed(req: &HttpRequest, allow: &'static str) -> ApiError {
    ApiError::MethodNotAllowed {
        detail: format!(
            "{} is not supported on {} (allowed: {allow})",
            req.method(),
            req.path()
        ),
        allow,
    }
}
