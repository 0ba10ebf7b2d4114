//! Reading JSON request bodies, with errors that say what is wrong and where.

use actix_web::web;
use serde::de::DeserializeOwned;

use crate::ApiError;
use crate::json::Object;

/// Parses the request body, a JSON object, as `T` (named `what` in errors): a 400 saying
/// whether the body is not JSON at all or which field is wrong.
pub fn object<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    object_in(body, "the body", what)
}

/// Parses `json`, a JSON object that is part of the request named `subject` (e.g. `item 3`),
/// as `T`.
pub fn object_in<T: DeserializeOwned>(
    json: &[u8],
    subject: &str,
    what: &str,
) -> Result<T, ApiError> {
    parse::<Object<T>>(json, subject, what).map(|o| o.0)
}

/// Parses `json`, named `subject` in errors, as `T` (named `what`).
pub fn parse<T: DeserializeOwned>(json: &[u8], subject: &str, what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(json).map_err(|e| {
        let why = if e.is_syntax() || e.is_eof() {
            "is not valid JSON".to_owned()
        } else {
            format!("is not a valid {what}")
        };
        ApiError::BadRequest(format!("{subject} {why}: {e}"))
    })
}

/// Reads the whole body of a request that may be larger than the server's usual limit, up to
/// `limit` bytes (over it: 413).
pub async fn read_up_to(payload: web::Payload, limit: usize) -> Result<web::Bytes, ApiError> {
    match payload.to_bytes_limited(limit).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(e)) => Err(ApiError::BadRequest(format!(
            "the body could not be read: {e}"
        ))),
        Err(_) => Err(ApiError::TooLarge(format!(
            "the request body is larger than {limit} bytes"
        ))),
    }
}
