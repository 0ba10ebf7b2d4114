//! The `http` payment provider: charges invoices through a remote service that speaks the
//! Antaeus HTTP payment-provider protocol (v1, `payment-provider-http.md`).
//!
//! Only a definitive answer becomes a [`ChargeDecision`]. Everything that leaves the outcome
//! unknown (a timeout, a lost connection, 429, 5xx, 409 request_in_progress) is a
//! [`ProviderError`] the caller resends under the same key; an answer the protocol does not
//! allow (a 404 page from a wrong base URL, a 402 from a gateway or proxy, a 200 without a
//! charge id) is a protocol error, never mistaken for a decline or a permanent failure.

use std::fmt;
use std::time::Duration;

use antaeus_core::error_report::one_line;
use antaeus_core::{
    ChargeDecision, ChargeRequest, PaymentProvider, ProviderError, RefundDecision, RefundRequest,
};
use antaeus_models::{Currency, IdempotencyKey, Invoice};
use async_trait::async_trait;
use chrono::Utc;
use reqwest::header::{self, HeaderValue};
use reqwest::{StatusCode, Url};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::retry_after;

mod refund;

pub(super) use refund::STATUS_REFUNDED;

/// The header that carries the charge attempt's idempotency key.
pub(super) const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";

/// Error codes of the protocol's `{"error": "..."}` bodies.
pub(super) mod codes {
    /// 402: the balance did not allow the charge.
    pub const DECLINED: &str = "declined";
    /// 404: the provider does not know the customer.
    pub const CUSTOMER_NOT_FOUND: &str = "customer_not_found";
    /// 409: the invoice's currency is not the customer's.
    pub const CURRENCY_MISMATCH: &str = "currency_mismatch";
    /// 409: the same key is still being processed.
    pub const REQUEST_IN_PROGRESS: &str = "request_in_progress";
    /// 422: the same key came with a different request.
    pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
    /// 404 to a refund: the provider has no such charge.
    pub const CHARGE_NOT_FOUND: &str = "charge_not_found";
    /// 409 to a refund: more than is left of the charge.
    pub const REFUND_EXCEEDS_CHARGE: &str = "refund_exceeds_charge";
}

/// The `status` of a 200 answer.
pub(super) const STATUS_CHARGED: &str = "charged";

/// Largest response body read; a protocol body is a few dozen bytes.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest piece of a provider's answer quoted in an error message.
const MAX_QUOTED_CHARS: usize = 64;

/// Where and how to reach the remote payment provider.
#[derive(Clone)]
pub struct HttpProviderConfig {
    /// `http://` or `https://` URL the protocol's paths are appended to, e.g. `https://pay.example/v1`.
    pub base_url: String,
    /// Longest a charge may take, from connecting to the last byte of the answer.
    pub timeout: Duration,
    /// Sent as `Authorization: Bearer <token>` when set.
    pub token: Option<String>,
}

impl fmt::Debug for HttpProviderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProviderConfig")
            .field("base_url", &without_password(&self.base_url))
            .field("timeout", &self.timeout)
            .field("token", &redacted(self.token.is_some()))
            .finish()
    }
}

/// Why an [`HttpPaymentProvider`] could not be built from its configuration.
#[derive(Debug, Error)]
pub enum HttpProviderError {
    /// The base URL is not an `http://` or `https://` URL with a host, or carries parts the
    /// protocol cannot use (credentials, a query or a fragment).
    #[error("invalid payment provider base URL: {0}")]
    InvalidBaseUrl(&'static str),
    /// The timeout is zero, which would fail every charge.
    #[error("the payment provider timeout must be positive")]
    ZeroTimeout,
    /// The token is empty or not visible ASCII (its value is never shown).
    #[error("the payment provider token must be 1 or more visible ASCII characters")]
    InvalidToken,
    /// The HTTP client could not be built (e.g. the TLS backend failed to initialise).
    #[error("cannot build the payment provider HTTP client: {0}")]
    Client(String),
}

/// A [`PaymentProvider`] that charges over HTTP; cheap to clone (clones share one connection pool).
#[derive(Clone)]
pub struct HttpPaymentProvider {
    client: reqwest::Client,
    charges_url: Url,
    refunds_url: Url,
    timeout: Duration,
    authorization: Option<HeaderValue>,
}

impl HttpPaymentProvider {
    /// Validates `config` and builds the client; no request is made yet.
    pub fn new(config: HttpProviderConfig) -> Result<Self, HttpProviderError> {
        if config.timeout.is_zero() {
            return Err(HttpProviderError::ZeroTimeout);
        }
        let charges_url = endpoint_url(&config.base_url, "charges")?;
        let refunds_url = endpoint_url(&config.base_url, "refunds")?;
        let authorization = config.token.as_deref().map(bearer).transpose()?;
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("antaeus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpProviderError::Client(one_line(&e)))?;
        Ok(Self {
            client,
            charges_url,
            refunds_url,
            timeout: config.timeout,
            authorization,
        })
    }

    /// The URL charges are posted to: the base URL with `/charges` appended.
    pub fn charges_url(&self) -> &str {
        self.charges_url.as_str()
    }

    /// Posts `body` to `url` under `key`; the answer's status is not interpreted yet.
    async fn send(
        &self,
        url: &Url,
        key: &IdempotencyKey,
        body: &impl Serialize,
    ) -> Result<reqwest::Response, ProviderError> {
        let key = HeaderValue::from_str(key.as_str()).map_err(|_| {
            ProviderError::Protocol("the idempotency key is not a header value".into())
        })?;
        let mut request = self
            .client
            .post(url.clone())
            .header(IDEMPOTENCY_KEY_HEADER, key)
            .json(body);
        if let Some(authorization) = &self.authorization {
            request = request.header(header::AUTHORIZATION, authorization.clone());
        }
        request.send().await.map_err(transport_error)
    }

    /// The answer's status, its body (read only for the statuses whose body is meaningful) and
    /// its `Retry-After`; a 401 or 403 is an error.
    async fn answer(
        &self,
        response: reqwest::Response,
    ) -> Result<(StatusCode, Vec<u8>, Option<Duration>), ProviderError> {
        let status = response.status();
        if matches!(status.as_u16(), 401 | 403) {
            return Err(self.refused(status));
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| retry_after::parse(value, Utc::now()));
        let body = if needs_body(status) {
            read_body(response).await?
        } else {
            Vec::new()
        };
        Ok((status, body, retry_after))
    }

    /// What a 401 or 403 means: the provider refused our credentials.
    fn refused(&self, status: StatusCode) -> ProviderError {
        let what = if self.authorization.is_some() {
            "the token in ANTAEUS_PROVIDER_TOKEN"
        } else {
            "a request without a token (set ANTAEUS_PROVIDER_TOKEN)"
        };
        ProviderError::Unauthorized(format!(
            "{} refused {what} ({})",
            self.describe(),
            status.as_u16()
        ))
    }
}

impl fmt::Debug for HttpPaymentProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpPaymentProvider")
            .field("charges_url", &self.charges_url.as_str())
            .field("timeout", &self.timeout)
            .field("token", &redacted(self.authorization.is_some()))
            .finish()
    }
}

#[async_trait]
impl PaymentProvider for HttpPaymentProvider {
    async fn charge(&self, request: &ChargeRequest) -> Result<ChargeDecision, ProviderError> {
        let (invoice, key) = (&request.invoice, &request.key);
        let response = self
            .send(&self.charges_url, key, &ChargeBody::of(invoice))
            .await?;
        let (status, body, retry_after) = self.answer(response).await?;
        log::debug!(
            "provider answered {status} to invoice {} (key {key})",
            invoice.id
        );
        interpret(status, &body, retry_after)
    }

    async fn refund(&self, request: &RefundRequest) -> Result<RefundDecision, ProviderError> {
        let response = self
            .send(
                &self.refunds_url,
                &request.key,
                &refund::RefundBody::of(request),
            )
            .await?;
        let (status, body, retry_after) = self.answer(response).await?;
        refund::interpret(status, &body, retry_after)
    }

    fn describe(&self) -> String {
        let mut base = self.charges_url.clone();
        if let Ok(mut segments) = base.path_segments_mut() {
            segments.pop();
        }
        format!("the payment provider at {base}")
    }
}

/// The body of `POST /charges`.
#[derive(Debug, Serialize)]
struct ChargeBody {
    invoice_id: i64,
    customer_id: i64,
    /// The exact decimal value as a string, never a float.
    amount: String,
    currency: Currency,
}

impl ChargeBody {
    fn of(invoice: &Invoice) -> Self {
        Self {
            invoice_id: invoice.id.get(),
            customer_id: invoice.customer_id.get(),
            amount: invoice.amount.value().to_string(),
            currency: invoice.amount.currency(),
        }
    }
}

/// A 200 answer's body.
#[derive(Deserialize)]
struct ChargedBody {
    status: String,
    charge_id: String,
}

/// An error answer's body (charges and refunds).
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
}

/// `{base_url}/{endpoint}`, with exactly one slash before the endpoint.
fn endpoint_url(base_url: &str, endpoint: &str) -> Result<Url, HttpProviderError> {
    let invalid = HttpProviderError::InvalidBaseUrl;
    let mut url = Url::parse(base_url.trim()).map_err(|_| invalid("not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("a host is required"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("credentials belong in the token, not the URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("a query or fragment is not allowed"));
    }
    url.path_segments_mut()
        .map_err(|_| invalid("the URL cannot have a path"))?
        .pop_if_empty()
        .push(endpoint);
    Ok(url)
}

/// The `Authorization` header for `token`, marked sensitive so it is never printed.
fn bearer(token: &str) -> Result<HeaderValue, HttpProviderError> {
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(HttpProviderError::InvalidToken);
    }
    let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| HttpProviderError::InvalidToken)?;
    value.set_sensitive(true);
    Ok(value)
}

fn redacted(present: bool) -> Option<&'static str> {
    present.then_some("<redacted>")
}

/// `raw` with any password masked: `new` refuses such URLs, but the refused value may be printed.
pub(crate) fn without_password(raw: &str) -> String {
    match Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("redacted"));
            url.into()
        }
        _ => raw.to_owned(),
    }
}

/// What a failure to exchange the request means: no answer in time, an answer lost, or a
/// request that could not even be built (which no resend can fix).
fn transport_error(err: reqwest::Error) -> ProviderError {
    if err.is_timeout() {
        ProviderError::Timeout
    } else if err.is_builder() {
        ProviderError::Protocol(one_line(&err.without_url()))
    } else {
        ProviderError::Network(one_line(&err.without_url()))
    }
}

/// Whether the answer to `status` depends on its body.
fn needs_body(status: StatusCode) -> bool {
    matches!(status.as_u16(), 200 | 402 | 404 | 409 | 422)
}

/// Reads at most [`MAX_BODY_BYTES`] of the answer.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ProviderError::Protocol(format!(
                "{} answer larger than {MAX_BODY_BYTES} bytes",
                response.status().as_u16()
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The protocol's response table: what an answer of `status` with `body` means; a 429 or 5xx
/// carries the wait its `Retry-After` header asked for.
fn interpret(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<ChargeDecision, ProviderError> {
    match status.as_u16() {
        200 => charged(body),
        402 | 404 | 409 | 422 => from_error_code(status, body),
        429 | 500..=599 => Err(ProviderError::Unavailable {
            status: status.as_u16(),
            retry_after,
        }),
        _ => Err(ProviderError::Protocol(format!(
            "unexpected status {status}"
        ))),
    }
}

/// A 200 must say `charged` and name the charge.
fn charged(body: &[u8]) -> Result<ChargeDecision, ProviderError> {
    match serde_json::from_slice::<ChargedBody>(body) {
        Ok(b) if b.status == STATUS_CHARGED && !b.charge_id.is_empty() => {
            Ok(ChargeDecision::Charged {
                charge_id: b.charge_id,
            })
        }
        Ok(b) if b.status != STATUS_CHARGED => Err(ProviderError::Protocol(format!(
            "200 with status {:?}",
            quote(&b.status)
        ))),
        Ok(_) => Err(ProviderError::Protocol(
            "200 with an empty charge_id".into(),
        )),
        Err(_) => Err(ProviderError::Protocol(
            "200 without a valid charged body".into(),
        )),
    }
}

/// 402, 404, 409 and 422 mean something only with the error code the protocol pairs with them:
/// a 404 page from a wrong URL must not fail an invoice for good, and a 402 from a gateway, a
/// proxy or a suspended account must not pass for a decline (which advances the key, so the
/// next attempt could charge an invoice the provider already charged).
fn from_error_code(status: StatusCode, body: &[u8]) -> Result<ChargeDecision, ProviderError> {
    let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(body) else {
        return Err(ProviderError::Protocol(format!(
            "{} without a protocol error body",
            status.as_u16()
        )));
    };
    match (status.as_u16(), error.as_str()) {
        (402, codes::DECLINED) => Ok(ChargeDecision::Declined {
            code: None,
            action_required: false,
            provider_ref: None,
        }),
        (404, codes::CUSTOMER_NOT_FOUND) => Ok(ChargeDecision::CustomerNotFound),
        (409, codes::CURRENCY_MISMATCH) => Ok(ChargeDecision::CurrencyMismatch),
        (409, codes::REQUEST_IN_PROGRESS) => Err(ProviderError::InProgress),
        (422, codes::IDEMPOTENCY_KEY_REUSED) => Err(ProviderError::IdempotencyKeyReused),
        (code, _) => Err(ProviderError::Protocol(format!(
            "{code} with unknown error {:?}",
            quote(&error)
        ))),
    }
}

/// At most [`MAX_QUOTED_CHARS`] of `text`, so a hostile answer cannot flood the logs.
fn quote(text: &str) -> String {
    text.chars().take(MAX_QUOTED_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use antaeus_models::{CustomerId, InvoiceId, InvoiceStatus, Money};

    use super::*;

    fn config(base_url: &str, token: Option<&str>) -> HttpProviderConfig {
        HttpProviderConfig {
            base_url: base_url.into(),
            timeout: Duration::from_secs(1),
            token: token.map(Into::into),
        }
    }

    fn invoice(minor: i64, currency: Currency) -> Invoice {
        Invoice::new(
            InvoiceId::new(17).unwrap(),
            CustomerId::new(3).unwrap(),
            Money::from_minor(minor, currency).unwrap(),
            InvoiceStatus::Pending,
        )
    }

    #[test]
    fn the_body_carries_the_exact_amount_as_a_string() {
        let json = serde_json::to_string(&ChargeBody::of(&invoice(12_345, Currency::EUR)));
        assert_eq!(
            json.unwrap(),
            r#"{"invoice_id":17,"customer_id":3,"amount":"123.45","currency":"EUR"}"#
        );
        let whole = serde_json::to_value(ChargeBody::of(&invoice(1_000, Currency::DKK)));
        assert_eq!(whole.unwrap()["amount"], "10.00");
    }

    #[test]
    fn charges_is_appended_with_exactly_one_slash() {
        for (base, expected) in [
            ("http://pay.test", "http://pay.test/charges"),
            ("http://pay.test/", "http://pay.test/charges"),
            (
                "https://pay.test:8443/v1",
                "https://pay.test:8443/v1/charges",
            ),
            ("https://pay.test/v1/", "https://pay.test/v1/charges"),
        ] {
            let provider = HttpPaymentProvider::new(config(base, None)).unwrap();
            assert_eq!(provider.charges_url(), expected, "{base}");
        }
    }

    #[test]
    fn unusable_base_urls_are_refused() {
        for base in [
            "",
            "pay.test",
            "ftp://pay.test",
            "http://",
            "mailto:a@pay.test",
            "http://user:pw@pay.test",
            "http://pay.test/?a=1",
            "http://pay.test/#x",
        ] {
            let err = HttpPaymentProvider::new(config(base, None)).unwrap_err();
            assert!(
                matches!(err, HttpProviderError::InvalidBaseUrl(_)),
                "{base}: {err}"
            );
        }
    }

    #[test]
    fn bad_tokens_and_a_zero_timeout_are_refused_without_echoing_the_token() {
        for token in ["", "two words", "tab\tbed", "ключ"] {
            let err = HttpPaymentProvider::new(config("http://pay.test", Some(token)));
            assert!(
                matches!(err, Err(HttpProviderError::InvalidToken)),
                "{token:?}"
            );
        }
        let zero = HttpProviderConfig {
            timeout: Duration::ZERO,
            ..config("http://pay.test", None)
        };
        assert!(matches!(
            HttpPaymentProvider::new(zero),
            Err(HttpProviderError::ZeroTimeout)
        ));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let config = config("http://pay.test", Some("s3cr3t-t0ken"));
        let provider = HttpPaymentProvider::new(config.clone()).unwrap();
        for shown in [format!("{config:?}"), format!("{provider:?}")] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("<redacted>"), "{shown}");
        }
        let with_password = HttpProviderConfig {
            base_url: "https://user:hunter2@pay.test".into(),
            ..config
        };
        let shown = format!("{with_password:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    #[test]
    fn definitive_answers_become_decisions() {
        let charged = interpret(
            status(200),
            br#"{"status":"charged","charge_id":"ch_1"}"#,
            None,
        );
        assert_eq!(
            charged,
            Ok(ChargeDecision::Charged {
                charge_id: "ch_1".into()
            })
        );
        let cases: [(u16, &[u8], ChargeDecision); 3] = [
            (
                402,
                br#"{"error":"declined"}"#,
                ChargeDecision::Declined {
                    code: None,
                    action_required: false,
                    provider_ref: None,
                },
            ),
            (
                404,
                br#"{"error":"customer_not_found"}"#,
                ChargeDecision::CustomerNotFound,
            ),
            (
                409,
                br#"{"error":"currency_mismatch"}"#,
                ChargeDecision::CurrencyMismatch,
            ),
        ];
        for (code, body, expected) in cases {
            assert_eq!(interpret(status(code), body, None), Ok(expected), "{code}");
        }
    }

    #[test]
    fn unknown_outcomes_and_key_reuse_are_errors() {
        let in_progress = interpret(status(409), br#"{"error":"request_in_progress"}"#, None);
        assert_eq!(in_progress, Err(ProviderError::InProgress));
        let reused = interpret(status(422), br#"{"error":"idempotency_key_reused"}"#, None);
        assert_eq!(reused, Err(ProviderError::IdempotencyKeyReused));
        for code in [429, 500, 502, 503, 504, 599] {
            for retry_after in [None, Some(Duration::from_secs(3))] {
                let got = interpret(status(code), b"<html>busy</html>", retry_after);
                let expected = ProviderError::Unavailable {
                    status: code,
                    retry_after,
                };
                assert_eq!(got, Err(expected), "{code}");
            }
        }
    }

    #[test]
    fn answers_outside_the_protocol_are_protocol_errors() {
        let cases: [(u16, &[u8]); 18] = [
            (402, b"<html>Payment Required</html>"),
            (402, b""),
            (402, br#"{"error":"account_suspended"}"#),
            (402, br#"{"message":"declined"}"#),
            (402, br#"{"error":"customer_not_found"}"#),
            (404, br#"{"error":"declined"}"#),
            (200, b"garbage"),
            (200, b""),
            (200, br#"{"status":"pending","charge_id":"ch_1"}"#),
            (200, br#"{"status":"charged","charge_id":""}"#),
            (200, br#"{"status":"charged"}"#),
            (404, b"<html>Not Found</html>"),
            (404, br#"{"error":"currency_mismatch"}"#),
            (409, br#"{"error":"conflict"}"#),
            (422, br#"{"error":"unprocessable"}"#),
            (400, br#"{"error":"bad_request"}"#),
            (201, br#"{"status":"charged","charge_id":"ch_1"}"#),
            (302, b""),
        ];
        for (code, body) in cases {
            let got = interpret(status(code), body, None);
            assert!(
                matches!(got, Err(ProviderError::Protocol(_))),
                "{code}: {got:?}"
            );
        }
    }

    #[test]
    fn quoted_provider_text_is_bounded() {
        let long = format!(r#"{{"error":"{}"}}"#, "x".repeat(10_000));
        let Err(ProviderError::Protocol(message)) = interpret(status(409), long.as_bytes(), None)
        else {
            panic!("expected a protocol error");
        };
        assert!(message.len() < 200, "{message}");
    }
}
