//! Reading a billing trigger: an empty body, `{"idempotencyKey": "…"}`, or an AWS EventBridge
//! event as EventBridge delivers it; an `Idempotency-Key` header wins over both.

use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::http::header::HeaderMap;
use antaeus_core::billing::RunRequest;
use antaeus_models::{IdempotencyKey, RunScope, RunTrigger};
use serde_json::{Map, Value};

use super::idempotency_key::idempotency_key;
use crate::ApiError;
use crate::params::Query;

/// The run a trigger request asks for. However it is worded (an EventBridge event, a key in
/// the body or in the header), a request for the same key and the same work names the same run.
/// The scope comes from the `scope` query parameter (how an EventBridge target asks: the event
/// itself is delivered unchanged) or the body's `scope`; `all` when neither says.
pub fn run_request(
    headers: &HeaderMap,
    query: &Query,
    body: &[u8],
) -> Result<RunRequest, ApiError> {
    let payload = parse_body(body)?;
    let from_header = idempotency_key(headers)?;
    let object = payload.as_ref().and_then(Value::as_object);
    let event_id = object
        .filter(|o| is_eventbridge_event(o))
        .map(event_id)
        .transpose()?;
    let (from_body, body_scope) = match (object, &event_id) {
        (Some(body), None) => (body_key(body)?, body_scope(body)?),
        _ => (None, None),
    };
    let scope = match (query.get::<RunScope>("scope")?, body_scope) {
        (Some(q), Some(b)) if q != b => {
            return Err(ApiError::BadRequest(format!(
                "the scope query parameter ({q}) and the body's scope ({b}) disagree"
            )));
        }
        (q, b) => q.or(b).unwrap_or(RunScope::All),
    };
    let trigger = if event_id.is_some() {
        RunTrigger::EventBridge
    } else {
        RunTrigger::Api
    };
    let key = match from_header.or(from_body).or(event_id) {
        Some(key) => key,
        None => generated_key(),
    };
    Ok(RunRequest::new(key, trigger, scope))
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

/// The key of a trigger's own body, `{"idempotencyKey": "…"}` (other fields are ignored).
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

/// The body's `scope`, if it names one.
fn body_scope(body: &Map<String, Value>) -> Result<Option<RunScope>, ApiError> {
    match body.get("scope") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(scope)) => scope
            .parse()
            .map(Some)
            .map_err(|e| ApiError::BadRequest(format!("scope: {e}"))),
        Some(_) => Err(ApiError::BadRequest(
            "scope must be a string: all or retries".into(),
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

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;
    use crate::routes::idempotency_key::IDEMPOTENCY_KEY_HEADER;

    const EVENT: &str = r#"{"version":"0","id":"53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-12-01T00:00:00Z","region":"eu-west-1","resources":["arn:aws:events:eu-west-1:123456789012:rule/antaeus-monthly"],"detail":{}}"#;

    fn query(text: &str) -> Query {
        Query::parse(text).unwrap()
    }

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
        let r = run_request(&headers(None), &query(""), EVENT.as_bytes()).unwrap();
        assert_eq!(r.key.as_str(), "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa");
        assert_eq!(r.trigger, RunTrigger::EventBridge);
        let again = run_request(&headers(None), &query(""), EVENT.as_bytes()).unwrap();
        assert_eq!(r, again, "a redelivery is the same request");
    }

    #[test]
    fn the_header_wins_over_the_body() {
        let r = run_request(&headers(Some("hdr-1")), &query(""), EVENT.as_bytes()).unwrap();
        assert_eq!(r.key.as_str(), "hdr-1");
        assert_eq!(r.trigger, RunTrigger::EventBridge);
        let r = run_request(
            &headers(Some("hdr-1")),
            &query(""),
            br#"{"idempotencyKey":"body-1"}"#,
        )
        .unwrap();
        assert_eq!(r.key.as_str(), "hdr-1");
        let r = run_request(
            &headers(None),
            &query(""),
            br#"{"idempotencyKey":"body-1"}"#,
        )
        .unwrap();
        assert_eq!((r.key.as_str(), r.trigger), ("body-1", RunTrigger::Api));
    }

    #[test]
    fn an_empty_body_starts_a_new_run_each_time() {
        let a = run_request(&headers(None), &query(""), b"").unwrap();
        let b = run_request(&headers(None), &query(""), b"  \n").unwrap();
        assert_ne!(a.key, b.key);
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_eq!(a.trigger, RunTrigger::Api);
    }

    /// Replaying an EventBridge event's id by hand (in the header, in the body) names the
    /// same run as the event: the fingerprint is what the run does, not who asks.
    #[test]
    fn every_wording_of_a_request_for_the_same_run_has_one_fingerprint() {
        let event = run_request(&headers(None), &query(""), EVENT.as_bytes()).unwrap();
        let id = event.key.as_str();
        let by_header = run_request(&headers(Some(id)), &query(""), b"").unwrap();
        let by_body = format!(r#"{{"idempotencyKey":"{id}"}}"#);
        let by_body = run_request(&headers(None), &query(""), by_body.as_bytes()).unwrap();
        for replay in [&by_header, &by_body] {
            assert_eq!(replay.key, event.key);
            assert_eq!(replay.fingerprint, event.fingerprint);
        }
        assert_eq!(event.fingerprint, "scope=all");
    }

    #[test]
    fn the_scope_comes_from_the_query_or_the_body_and_is_part_of_the_request() {
        let monthly = run_request(&headers(None), &query(""), EVENT.as_bytes()).unwrap();
        let sweep = run_request(&headers(None), &query("scope=retries"), EVENT.as_bytes()).unwrap();
        assert_eq!(
            (monthly.scope, sweep.scope),
            (RunScope::All, RunScope::Retries)
        );
        assert_eq!(sweep.key, monthly.key, "the event is delivered unchanged");
        assert_ne!(sweep.fingerprint, monthly.fingerprint);
        let body = run_request(&headers(Some("k")), &query(""), br#"{"scope":"retries"}"#).unwrap();
        assert_eq!(body.scope, RunScope::Retries);
        let both = run_request(
            &headers(Some("k")),
            &query("scope=retries"),
            br#"{"scope":"retries"}"#,
        );
        assert_eq!(both.unwrap().scope, RunScope::Retries);
        for (q, body) in [
            ("scope=monthly", &b""[..]),
            ("scope=all", br#"{"scope":"retries"}"#),
            ("", br#"{"scope":7}"#),
            ("", br#"{"scope":"RETRIES"}"#),
        ] {
            assert!(
                run_request(&headers(None), &query(q), body).is_err(),
                "{q} {body:?}"
            );
        }
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
                run_request(&headers(None), &query(""), body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert!(run_request(&headers(Some("a b")), &query(""), b"").is_err());
    }
}
