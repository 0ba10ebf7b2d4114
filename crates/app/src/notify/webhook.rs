//! The webhook notifier: POSTs each billing event, signed, to the operator's URL.
//!
//! The body is the event as JSON, exactly as `serde_json::to_vec` writes it, and the
//! `Antaeus-Signature` header signs it with each configured secret (see [`super::signature`]). Delivery is at least once: the
//! outbox retries every error, so receivers deduplicate by the event's `id`.
//!
//! What an answer means: 2xx is delivered; 408, 429, 5xx, a timeout or no connection is
//! [`NotifyError::Unavailable`] (try later); any other answer, redirects included, is
//! [`NotifyError::Rejected`] (the receiver or its URL needs fixing). Redirects are not followed,
//! so a signed event only ever goes to the configured URL.
//!
//! The secret never appears in logs, errors or `Debug` output, and neither do the URL's path,
//! query or credentials (webhook URLs often carry tokens): messages name only the origin.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use antaeus_core::Clock;
use antaeus_core::error_report::one_line;
use antaeus_core::notify::{FailureNotifier, NotifyError};
use antaeus_models::Notification;
use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use thiserror::Error;

use super::signature::{SIGNATURE_HEADER, sign_with_each};

/// The header carrying the event's id (also in the body, where it is signed).
pub const EVENT_ID_HEADER: &str = "Antaeus-Event-Id";

/// The header carrying the event's type, e.g. `invoice.charge_failed` (also in the body).
pub const EVENT_TYPE_HEADER: &str = "Antaeus-Event-Type";

/// Most characters of a receiver's answer quoted in an error.
const EXCERPT_CHARS: usize = 200;

/// Most bytes of a receiver's answer read to quote it (enough for `EXCERPT_CHARS` characters).
const EXCERPT_BYTES: usize = 4 * EXCERPT_CHARS + 4;

/// Where and how to deliver webhooks.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// The receiver's `http://` or `https://` URL.
    pub url: String,
    /// The shared secrets the signature is keyed with: one, or two while it is rotated (each
    /// adds a `v1` entry to the header).
    pub secrets: Vec<String>,
    /// The longest a delivery may take, connecting and answering included.
    pub timeout: Duration,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &redact_url(&self.url))
            .field(
                "secrets",
                &format_args!("[{} redacted]", self.secrets.len()),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Why a [`WebhookConfig`] cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WebhookError {
    /// The URL does not parse.
    #[error("webhook URL is not a valid URL: {0}")]
    InvalidUrl(String),
    /// The URL's scheme is not `http` or `https`.
    #[error("webhook URL must start with http:// or https://, not {0}://")]
    UnsupportedScheme(String),
    /// The URL names no host.
    #[error("webhook URL has no host")]
    MissingHost,
    /// No secret, or one that is empty or only whitespace.
    #[error("webhook secret is empty")]
    EmptySecret,
    /// The timeout is zero, so every delivery would fail.
    #[error("webhook timeout must be more than zero")]
    ZeroTimeout,
    /// The HTTP client could not be built (e.g. no TLS roots).
    #[error("could not build the webhook HTTP client: {0}")]
    Client(String),
}

/// Delivers events by signed HTTP POST; see the module documentation for the contract.
pub struct WebhookNotifier {
    client: reqwest::Client,
    url: Url,
    secrets: Secrets,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl WebhookNotifier {
    /// A notifier for `config`, signing with timestamps from `clock`; checks the URL, secret and
    /// timeout.
    pub fn new(config: WebhookConfig, clock: Arc<dyn Clock>) -> Result<Self, WebhookError> {
        let url = parse_url(&config.url)?;
        if config.secrets.is_empty() || config.secrets.iter().any(|s| s.trim().is_empty()) {
            return Err(WebhookError::EmptySecret);
        }
        if config.timeout.is_zero() {
            return Err(WebhookError::ZeroTimeout);
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("antaeus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| WebhookError::Client(one_line(&err.without_url())))?;
        Ok(Self {
            client,
            url,
            secrets: Secrets(config.secrets.into_iter().map(String::into_bytes).collect()),
            timeout: config.timeout,
            clock,
        })
    }

    /// The receiver's origin (`scheme://host:port`), safe to log.
    pub fn endpoint(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// The signed POST for `event`.
    fn request(&self, event: &Notification) -> Result<RequestBuilder, NotifyError> {
        let body = serde_json::to_vec(event).map_err(|err| {
            NotifyError::Rejected(format!("event {} cannot be encoded: {err}", event.id))
        })?;
        let event_id = HeaderValue::from_str(&event.id).map_err(|_| {
            NotifyError::Rejected(format!("event id {:?} is not a valid header", event.id))
        })?;
        let signature = sign_with_each(&self.secrets.0, self.clock.now().timestamp(), &body);
        Ok(self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(EVENT_ID_HEADER, event_id)
            .header(EVENT_TYPE_HEADER, event.kind.as_str())
            .body(body))
    }

    /// The error for a request that got no answer.
    fn transport_error(&self, err: reqwest::Error) -> NotifyError {
        let endpoint = self.endpoint();
        let reason = if err.is_timeout() {
            format!("no answer from {endpoint} within {:?}", self.timeout)
        } else if err.is_connect() {
            format!(
                "could not connect to {endpoint}: {}",
                one_line(&err.without_url())
            )
        } else {
            format!(
                "request to {endpoint} failed: {}",
                one_line(&err.without_url())
            )
        };
        NotifyError::Unavailable(reason)
    }

    /// Describes an answer other than 2xx, quoting the start of its body.
    async fn describe_answer(&self, response: Response) -> String {
        let mut reason = format!("HTTP {} from {}", response.status(), self.endpoint());
        let quoted = excerpt(&read_prefix(response).await);
        if !quoted.is_empty() {
            reason.push_str(": ");
            reason.push_str(&quoted);
        }
        reason
    }
}

impl fmt::Debug for WebhookNotifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookNotifier")
            .field("endpoint", &self.endpoint())
            .field("secrets", &self.secrets)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl FailureNotifier for WebhookNotifier {
    async fn notify(&self, event: &Notification) -> Result<(), NotifyError> {
        let response = self
            .request(event)?
            .send()
            .await
            .map_err(|err| self.transport_error(err))?;
        match classify(response.status()) {
            Verdict::Delivered => {
                log::debug!(
                    "event {} ({}) delivered to {}",
                    event.id,
                    event.kind,
                    self.endpoint()
                );
                Ok(())
            }
            Verdict::Unavailable => Err(NotifyError::Unavailable(
                self.describe_answer(response).await,
            )),
            Verdict::Rejected => Err(NotifyError::Rejected(self.describe_answer(response).await)),
        }
    }
}

/// The shared secrets; their `Debug` never shows them.
struct Secrets(Vec<Vec<u8>>);

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// What a receiver's status code means for the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Delivered,
    Unavailable,
    Rejected,
}

/// 2xx delivered; 408, 429 and 5xx worth retrying soon; anything else a refusal.
fn classify(status: StatusCode) -> Verdict {
    if status.is_success() {
        Verdict::Delivered
    } else if status.is_server_error()
        || status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
    {
        Verdict::Unavailable
    } else {
        Verdict::Rejected
    }
}

/// A URL with an http(s) scheme and a host.
fn parse_url(raw: &str) -> Result<Url, WebhookError> {
    let url = Url::parse(raw.trim()).map_err(|err| WebhookError::InvalidUrl(err.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(WebhookError::UnsupportedScheme(url.scheme().to_owned()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(WebhookError::MissingHost);
    }
    Ok(url)
}

/// The URL's origin, with `/…` standing for any path or query: safe to print.
pub(crate) fn redact_url(raw: &str) -> String {
    match Url::parse(raw.trim()) {
        Ok(url) if url.path() == "/" && url.query().is_none() => url.origin().ascii_serialization(),
        Ok(url) => format!("{}/…", url.origin().ascii_serialization()),
        Err(_) => "<not a URL>".to_owned(),
    }
}

/// Up to `EXCERPT_BYTES` of the body; whatever arrived if reading fails.
async fn read_prefix(mut response: Response) -> Vec<u8> {
    let mut prefix = Vec::new();
    while prefix.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => prefix.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    prefix.truncate(EXCERPT_BYTES);
    prefix
}

/// The body's first `EXCERPT_CHARS` characters on one line, without control characters.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(char::is_control, "");
    let mut chars = line.chars();
    let quoted: String = chars.by_ref().take(EXCERPT_CHARS).collect();
    if chars.next().is_some() {
        format!("{quoted}…")
    } else {
        quoted
    }
}

#[cfg(test)]
mod tests {
    use antaeus_core::SystemClock;

    use super::*;

    fn config(url: &str, secret: &str) -> WebhookConfig {
        WebhookConfig {
            url: url.to_owned(),
            secrets: vec![secret.to_owned()],
            timeout: Duration::from_secs(5),
        }
    }

    fn notifier(config: WebhookConfig) -> Result<WebhookNotifier, WebhookError> {
        WebhookNotifier::new(config, Arc::new(SystemClock))
    }

    #[test]
    fn statuses_are_classified_for_retry() {
        for (code, verdict) in [
            (200, Verdict::Delivered),
            (202, Verdict::Delivered),
            (204, Verdict::Delivered),
            (301, Verdict::Rejected),
            (307, Verdict::Rejected),
            (400, Verdict::Rejected),
            (401, Verdict::Rejected),
            (404, Verdict::Rejected),
            (408, Verdict::Unavailable),
            (410, Verdict::Rejected),
            (422, Verdict::Rejected),
            (429, Verdict::Unavailable),
            (500, Verdict::Unavailable),
            (502, Verdict::Unavailable),
            (503, Verdict::Unavailable),
            (599, Verdict::Unavailable),
        ] {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(classify(status), verdict, "HTTP {code}");
        }
    }

    #[test]
    fn only_http_urls_with_a_host_are_accepted() {
        assert!(notifier(config("https://hooks.example.com/antaeus", "s")).is_ok());
        assert!(notifier(config("http://127.0.0.1:8080", "s")).is_ok());
        assert!(matches!(
            notifier(config("hooks.example.com/antaeus", "s")),
            Err(WebhookError::InvalidUrl(_))
        ));
        assert!(matches!(
            notifier(config("http://", "s")),
            Err(WebhookError::InvalidUrl(_))
        ));
        assert_eq!(
            notifier(config("ftp://example.com/", "s")).err(),
            Some(WebhookError::UnsupportedScheme("ftp".into()))
        );
        assert_eq!(
            notifier(config("unix:/run/hook.sock", "s")).err(),
            Some(WebhookError::UnsupportedScheme("unix".into()))
        );
    }

    #[test]
    fn a_blank_secret_or_zero_timeout_is_refused() {
        assert_eq!(
            notifier(config("https://example.com/", "")).err(),
            Some(WebhookError::EmptySecret)
        );
        assert_eq!(
            notifier(config("https://example.com/", "  ")).err(),
            Some(WebhookError::EmptySecret)
        );
        let mut zero = config("https://example.com/", "s");
        zero.timeout = Duration::ZERO;
        assert_eq!(notifier(zero).err(), Some(WebhookError::ZeroTimeout));
    }

    #[test]
    fn debug_output_shows_neither_secret_nor_url_tokens() {
        let config = config(
            "https://user:pw@hooks.example.com/services/T0K3N?key=abc",
            "whsec_very_secret",
        );
        let shown = format!("{config:?} {:?}", notifier(config.clone()).unwrap());
        for hidden in ["whsec_very_secret", "T0K3N", "abc", "pw", "user"] {
            assert!(!shown.contains(hidden), "{hidden} in {shown}");
        }
        assert!(shown.contains("https://hooks.example.com"), "{shown}");
        assert_eq!(redact_url("http://h:1/"), "http://h:1");
        assert_eq!(redact_url("not a url"), "<not a URL>");
    }

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(excerpt(b""), "");
        assert_eq!(
            excerpt(b" bad\r\n\tsignature \x1b[31m"),
            "bad signature [31m"
        );
        let long = "é".repeat(EXCERPT_CHARS + 50);
        let quoted = excerpt(long.as_bytes());
        assert_eq!(quoted.chars().count(), EXCERPT_CHARS + 1);
        assert!(quoted.ends_with('…'));
        assert_eq!(
            excerpt("é".repeat(EXCERPT_CHARS).as_bytes())
                .chars()
                .count(),
            EXCERPT_CHARS
        );
    }
}
