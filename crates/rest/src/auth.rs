//! Bearer-token and API-key authentication for the API.
//!
//! Mutating endpoints need `ANTAEUS_API_TOKEN` as `Authorization: Bearer <token>` or
//! `x-api-key: <token>` (EventBridge connections send an API-key header). Reads are open, as in
//! the original Antaeus, unless `ANTAEUS_READ_TOKEN` is set; then they need it (or the write
//! token). Each variable may list several comma-separated tokens, any one valid, so a token is
//! rotated without downtime ([`Tokens`]). Tokens are compared in constant time and never logged.

use std::fmt;
use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use actix_web::{FromRequest, HttpRequest, web};

use crate::tokens::Tokens;
use crate::{ApiError, ApiState};

/// The tokens guarding the API. `Debug` never shows them.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ApiTokens {
    /// Required by mutating endpoints; without any they answer 403.
    pub write: Tokens,
    /// When set, required by reads too (the write tokens also read).
    pub read: Tokens,
}

impl ApiTokens {
    /// Whether any token is configured (then the console needs a session).
    pub fn any(&self) -> bool {
        !self.write.is_empty() || !self.read.is_empty()
    }
}

impl fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiTokens")
            .field("write", &self.write)
            .field("read", &self.read)
            .finish()
    }
}

/// Proof that the request may change state; extracting it enforces the write token.
pub struct WriteAccess;

/// Proof that the request may read; extracting it enforces the read token when one is set.
pub struct ReadAccess;

impl FromRequest for WriteAccess {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(tokens(req).and_then(|t| {
            if t.write.is_empty() {
                Err(ApiError::Forbidden(
                    "this endpoint is disabled until an API token is configured: set ANTAEUS_API_TOKEN and send it as `Authorization: Bearer <token>` or `x-api-key: <token>`".into(),
                ))
            } else if presented(req.headers()).is_some_and(|p| t.write.accepts(p)) {
                Ok(WriteAccess)
            } else {
                Err(unauthorized())
            }
        }))
    }
}

impl FromRequest for ReadAccess {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(tokens(req).and_then(|t| {
            if t.read.is_empty() {
                return Ok(ReadAccess);
            }
            // Both sets are compared, whatever the first answers, so timing says nothing.
            let ok =
                presented(req.headers()).is_some_and(|p| t.read.accepts(p) | t.write.accepts(p));
            if ok {
                Ok(ReadAccess)
            } else {
                Err(unauthorized())
            }
        }))
    }
}

fn tokens(req: &HttpRequest) -> Result<&ApiTokens, ApiError> {
    req.app_data::<web::Data<ApiState>>()
        .map(|state| &state.tokens)
        .ok_or_else(|| ApiError::Internal("API state missing".into()))
}

fn unauthorized() -> ApiError {
    ApiError::Unauthorized(
        "a valid token is required: send `Authorization: Bearer <token>` or `x-api-key: <token>`"
            .into(),
    )
}

/// The token the request presents: the bearer token, else the `x-api-key` header.
fn presented(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    bearer.or_else(|| {
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    })
}

/// Compares a presented secret with the expected one without an early exit, so the time taken
/// says nothing about how much matched.
pub fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, e) in expected.iter().enumerate() {
        diff |= e ^ given.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::HeaderValue;

    use super::*;

    #[test]
    fn equal_tokens_match_and_anything_else_does_not() {
        let same = |given: &str| same_secret(given.as_bytes(), b"s3cret-token");
        assert!(same("s3cret-token"));
        for other in [
            "",
            "s3cret",
            "s3cret-token2",
            "S3cret-token",
            "s3cret-tokem",
        ] {
            assert!(!same(other), "{other:?}");
        }
    }

    #[test]
    fn the_bearer_token_wins_and_the_api_key_is_the_fallback() {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc"));
        h.insert(
            "x-api-key".parse().unwrap(),
            HeaderValue::from_static("xyz"),
        );
        assert_eq!(presented(&h), Some("abc"));
        h.remove(AUTHORIZATION);
        assert_eq!(presented(&h), Some("xyz"));
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(presented(&h), Some("xyz"), "other schemes are not tokens");
        assert!(
            !format!(
                "{:?}",
                ApiTokens {
                    write: Tokens::parse("abc").unwrap(),
                    read: Tokens::none(),
                }
            )
            .contains("abc")
        );
    }
}
