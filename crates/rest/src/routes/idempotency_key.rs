//! The `Idempotency-Key` header, as in the IETF idempotency-key draft: it names a billing run,
//! and makes a create request safe to repeat.

use actix_web::http::header::HeaderMap;
use antaeus_models::IdempotencyKey;

use crate::ApiError;

/// The header's name.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The key the request carries, if any; a key that is not 1 to 255 visible ASCII characters
/// is a 400.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("Idempotency-Key header is not visible ASCII".into()))?;
    IdempotencyKey::parse(text)
        .map(Some)
        .map_err(|e| ApiError::BadRequest(format!("Idempotency-Key header: {e}")))
}
