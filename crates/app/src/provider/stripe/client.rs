//! The HTTP side of the Stripe adapter: one reqwest client, the headers every request carries
//! (the secret key, the pinned `Stripe-Version`, the idempotency key on a create), and the
//! answer as the table reads it.

use std::time::Duration;

use antaeus_core::ProviderError;
use antaeus_core::error_report::one_line;
use chrono::Utc;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Url};

use super::config::{API_VERSION, StripeConfig, StripeConfigError};
use crate::provider::retry_after;

/// Largest answer read; a PaymentIntent is a few kilobytes (localstripe's, with a full charge
/// object, a few more).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An answer from Stripe, as the answer table reads it.
#[derive(Debug, Clone, Default)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The body (JSON, when it is Stripe's).
    pub body: Vec<u8>,
    /// The wait a `Retry-After` header asked for.
    pub retry_after: Option<Duration>,
    /// `Stripe-Should-Retry`: whether Stripe says a retry (same key) may succeed.
    pub should_retry: Option<bool>,
    /// `Request-Id`, to find the request in Stripe's dashboard.
    pub request_id: Option<String>,
}

/// A client of Stripe's API.
#[derive(Clone)]
pub struct StripeClient {
    client: reqwest::Client,
    base: Url,
}

impl StripeClient {
    /// Validates `config` and builds the client; nothing is sent yet.
    pub fn new(config: &StripeConfig) -> Result<Self, StripeConfigError> {
        if config.timeout.is_zero() {
            return Err(StripeConfigError::ZeroTimeout);
        }
        let base = config.base_url()?;
        let key = config.secret_key.trim();
        let is_secret = key.starts_with("sk_") || key.starts_with("rk_");
        if !is_secret || key.len() < 4 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(StripeConfigError::InvalidSecretKey);
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {key}"))
            .map_err(|_| StripeConfigError::InvalidSecretKey)?;
        authorization.set_sensitive(true);
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, authorization);
        headers.insert("Stripe-Version", HeaderValue::from_static(API_VERSION));
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("antaeus/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .build()
            .map_err(|e| StripeConfigError::Client(one_line(&e)))?;
        Ok(Self { client, base })
    }

    /// The API base the client sends to.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// `POST {base}{path}` with the form `body` under `idempotency_key`.
    pub async fn post_form(
        &self,
        path: &str,
        body: String,
        idempotency_key: &str,
    ) -> Result<Reply, ProviderError> {
        let key = HeaderValue::from_str(idempotency_key).map_err(|_| {
            ProviderError::Protocol("the idempotency key is not a header value".into())
        })?;
        let request = self
            .client
            .request(Method::POST, self.url(path, None))
            .header("Idempotency-Key", key)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body);
        read(request.send().await.map_err(transport_error)?).await
    }

    /// `GET {base}{path}?{query}`.
    pub async fn get(&self, path: &str, query: Option<&str>) -> Result<Reply, ProviderError> {
        let request = self.client.request(Method::GET, self.url(path, query));
        read(request.send().await.map_err(transport_error)?).await
    }

    /// The base URL with `path` (which starts with `/v1/`) appended to its own path.
    fn url(&self, path: &str, query: Option<&str>) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url.set_query(query);
        url
    }
}

/// Reads the answer's headers and at most [`MAX_BODY_BYTES`] of its body.
async fn read(mut response: reqwest::Response) -> Result<Reply, ProviderError> {
    let headers = response.headers();
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .map(str::to_owned)
    };
    let mut reply = Reply {
        status: response.status().as_u16(),
        body: Vec::new(),
        retry_after: text("retry-after").and_then(|v| retry_after::parse(&v, Utc::now())),
        should_retry: text("stripe-should-retry").and_then(|v| match v.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }),
        request_id: text("request-id"),
    };
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if reply.body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ProviderError::Protocol(format!(
                "Stripe answered {} with more than {MAX_BODY_BYTES} bytes",
                reply.status
            )));
        }
        reply.body.extend_from_slice(&chunk);
    }
    Ok(reply)
}

/// What a failure to exchange a request means: no answer in time, or an answer lost.
fn transport_error(err: reqwest::Error) -> ProviderError {
    if err.is_timeout() {
        ProviderError::Timeout
    } else if err.is_builder() {
        ProviderError::Protocol(one_line(&err.without_url()))
    } else {
        ProviderError::Network(one_line(&err.without_url()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> StripeClient {
        StripeClient::new(&StripeConfig {
            api_base: base.into(),
            secret_key: "sk_test_123".into(),
            timeout: Duration::from_secs(1),
        })
        .unwrap()
    }

    #[test]
    fn paths_are_appended_to_the_base_path() {
        let plain = client("https://api.stripe.com");
        assert_eq!(
            plain.url("/v1/payment_intents", None).as_str(),
            "https://api.stripe.com/v1/payment_intents"
        );
        let prefixed = client("http://127.0.0.1:9/stripe/");
        assert_eq!(
            prefixed
                .url("/v1/payment_intents/search", Some("query=x"))
                .as_str(),
            "http://127.0.0.1:9/stripe/v1/payment_intents/search?query=x"
        );
    }

    #[test]
    fn keys_that_are_not_secret_keys_are_refused() {
        for key in ["", "pk_test_123", "sk_", "sk_test two", "ключ"] {
            let config = StripeConfig {
                api_base: "https://api.stripe.com".into(),
                secret_key: key.into(),
                timeout: Duration::from_secs(1),
            };
            assert!(
                matches!(
                    StripeClient::new(&config),
                    Err(StripeConfigError::InvalidSecretKey)
                ),
                "{key:?}"
            );
        }
    }
}
