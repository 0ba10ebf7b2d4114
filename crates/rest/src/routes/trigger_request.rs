//! Reading a billing trigger: an empty body, `{"idempotencyKey": "…"}`, or an AWS EventBridge
//! event as EventBridge delivers it; an `Idempotency-Key` header wins over both.

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::header::HeaderMap;
use antaeus_core::billing::RunRequest;
use antaeus_models::{IdempotencyKey, RunTrigger};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::ApiError;

/// The header that names the run, as in the IETF idempotency-key draft.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The run a trigger request asks for.
pub fn run_request(headers: &HeaderMap, body: &[u8]) -> Result<RunRequest, ApiError> {
    let payload = parse_body(body)?;
    let from_header = header_key(headers)?;
    let object = payload.as_ref().and_then(Value::as_object);
    let from_body = object.map(body_key).transpose()?.flatten();
    let event_id = object
        .filter(|o| is_eventbridge_event(o))
        .map(event_id)
        .transpose()?;
    let trigger = if event_id.is_some() {
        RunTrigger::EventBridge
    } else {
        RunTrigger::Api
    };
    let key = match from_header.or(from_body).or(event_id) {
        Some(key) => key,
        None => generated_key(),
    };
    Ok(RunRequest {
        key,
        trigger,
        fingerprint: fingerprint(trigger, payload.as_ref()),
    })
}

/// `None` for an empty body; a JSON object otherwise.
fn parse_body(body: &[u8]) -> Result<Option<Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object: {}, {\"idempotencyKey\": \"…\"} or an EventBridge event".into(),
        ));
    }
    Ok(Some(value))
}

fn header_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
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

fn body_key(body: &Map<String, Value>) -> Result<Option<IdempotencyKey>, ApiError> {
    match body.get("idempotencyKey") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(key)) => IdempotencyKey::parse(key.as_str())
            .map(Some)
            .map_err(|e| ApiError::BadRequest(format!("idempotencyKey: {e}"))),
        Some(_) => Err(ApiError::BadRequest(
            "idempotencyKey must be a string".into(),
        )),
    }
}

/// The scheduled-event envelope EventBridge sends: `id`, `detail-type`, `source`, `time`, ….
fn is_eventbridge_event(body: &Map<String, Value>) -> bool {
    body.contains_key("detail-type") && body.contains_key("source") && body.contains_key("id")
}

fn event_id(body: &Map<String, Value>) -> Result<IdempotencyKey, ApiError> {
    let Some(Value::String(id)) = body.get("id") else {
        return Err(ApiError::BadRequest(
            "EventBridge event: id must be a string".into(),
        ));
    };
    for field in ["detail-type", "source"] {
        if !body.get(field).is_some_and(Value::is_string) {
            return Err(ApiError::BadRequest(format!(
                "EventBridge event: {field} must be a string"
            )));
        }
    }
    IdempotencyKey::parse(id.as_str())
        .map_err(|e| ApiError::BadRequest(format!("EventBridge event id: {e}")))
}

/// A key for a trigger that named none: every such request starts a new run.
fn generated_key() -> IdempotencyKey {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    IdempotencyKey::parse(format!("api-{nanos}-{}-{n}", std::process::id()))
        .expect("digits and dashes make a valid key")
}

/// Identifies the request: the trigger and the body (keys sorted), hashed.
fn fingerprint(trigger: RunTrigger, body: Option<&Value>) -> String {
    let canonical = body.map_or_else(String::new, Value::to_string);
    let digest = Sha256::digest(format!("{trigger}\n{canonical}").as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    const EVENT: &str = r#"{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-12-01T00:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/antaeus-monthly"],"detail":{}}"#;

    fn headers(key: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Some(key) = key {
            h.insert(
                HeaderName::from_static(IDEMPOTENCY_KEY_HEADER),
                HeaderValue::from_str(key).unwrap(),
            );
        }
        h
    }

    #[test]
    fn an_eventbridge_event_is_keyed_by_its_id() {
        let r = run_request(&headers(None), EVENT.as_bytes()).unwrap();
        assert_eq!(r.key.as_str(), "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa");
        assert_eq!(r.trigger, RunTrigger::EventBridge);
        let again = run_request(&headers(None), EVENT.as_bytes()).unwrap();
        assert_eq!(r, again, "a redelivery is the same request");
    }

    #[test]
    fn the_header_wins_over_the_body() {
        let r = run_request(&headers(Some("hdr-1")), EVENT.as_bytes()).unwrap();
        assert_eq!(r.key.as_str(), "hdr-1");
        assert_eq!(r.trigger, RunTrigger::EventBridge);
        let r = run_request(&headers(Some("hdr-1")), br#"{"idempotencyKey":"body-1"}"#).unwrap();
        assert_eq!(r.key.as_str(), "hdr-1");
        let r = run_request(
            &headers(None),
            br#"{"idempotencyKey":"body-1","extra":true}"#,
        )
        .unwrap();
        assert_eq!((r.key.as_str(), r.trigger), ("body-1", RunTrigger::Api));
    }

    #[test]
    fn an_empty_body_starts_a_new_run_each_time() {
        let a = run_request(&headers(None), b"").unwrap();
        let b = run_request(&headers(None), b"  \n").unwrap();
        assert_ne!(a.key, b.key);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.trigger, RunTrigger::Api);
    }

    #[test]
    fn different_requests_have_different_fingerprints() {
        let api = run_request(&headers(Some("k")), b"").unwrap();
        let event = run_request(&headers(Some("k")), EVENT.as_bytes()).unwrap();
        let other = run_request(&headers(Some("k")), br#"{"note":"x"}"#).unwrap();
        assert_ne!(api.fingerprint, event.fingerprint);
        assert_ne!(api.fingerprint, other.fingerprint);
    }

    #[test]
    fn malformed_triggers_are_refused() {
        for body in [
            &b"{"[..],
            b"[]",
            b"\"run\"",
            b"42",
            br#"{"idempotencyKey":5}"#,
            br#"{"idempotencyKey":""}"#,
            br#"{"idempotencyKey":"has space"}"#,
            br#"{"id":5,"detail-type":"Scheduled Event","source":"aws.events"}"#,
            br#"{"id":"x","detail-type":7,"source":"aws.events"}"#,
        ] {
            assert!(
                run_request(&headers(None), body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(run_request(&headers(Some("a b")), b"").is_err());
    }
}
