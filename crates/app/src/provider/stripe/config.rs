//! The Stripe provider's settings: where the API is, the secret key (never shown), timeouts.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use thiserror::Error;

/// Stripe's API, when `ANTAEUS_STRIPE_API_BASE` is unset.
pub const DEFAULT_API_BASE: &str = "https://api.stripe.com";

/// The API version every request pins (`Stripe-Version`): the shapes the adapter reads are
/// this version's, whatever the account's default is.
pub const API_VERSION: &str = "2024-06-20";

/// Where and how to reach Stripe.
#[derive(Clone)]
pub struct StripeConfig {
    /// The API's base URL, e.g. `https://api.stripe.com` (tests point it at a local server).
    pub api_base: String,
    /// The secret API key (`sk_live_…`, `sk_test_…` or a restricted `rk_…` key); sent as
    /// `Authorization: Bearer`, never logged.
    pub secret_key: String,
    /// The longest one request to Stripe may take, from connecting to the last byte.
    pub timeout: Duration,
}

impl fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base)
            .field("secret_key", &"<redacted>")
            .field("mode", &self.mode())
            .field("timeout", &self.timeout)
            .field("api_version", &API_VERSION)
            .finish()
    }
}

impl StripeConfig {
    /// `live` or `test`, as the key's prefix says (shown in place of the key).
    pub fn mode(&self) -> &'static str {
        if self.secret_key.contains("_live_") {
            "live"
        } else if self.secret_key.contains("_test_") {
            "test"
        } else {
            "unknown"
        }
    }

    /// The base URL, checked: `http(s)://host[:port][/path]` with nothing else.
    pub(super) fn base_url(&self) -> Result<Url, StripeConfigError> {
        let invalid = StripeConfigError::InvalidApiBase;
        let url = Url::parse(self.api_base.trim()).map_err(|_| invalid("not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("a host is required"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("credentials belong in the secret key, not the URL"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("a query or fragment is not allowed"));
        }
        Ok(url)
    }
}

/// Why a Stripe provider could not be built from its configuration.
#[derive(Debug, Error)]
pub enum StripeConfigError {
    /// `ANTAEUS_STRIPE_API_BASE` is not a usable URL.
    #[error("invalid Stripe API base URL: {0}")]
    InvalidApiBase(&'static str),
    /// The secret key is empty, not visible ASCII, or not a secret key (its value is never
    /// shown).
    #[error(
        "the Stripe secret key must be a secret or restricted key (sk_… or rk_…) of visible ASCII characters"
    )]
    InvalidSecretKey,
    /// The timeout is zero, which would fail every charge.
    #[error("the Stripe request timeout must be positive")]
    ZeroTimeout,
    /// The HTTP client could not be built.
    #[error("cannot build the Stripe HTTP client: {0}")]
    Client(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(key: &str) -> StripeConfig {
        StripeConfig {
            api_base: DEFAULT_API_BASE.into(),
            secret_key: key.into(),
            timeout: Duration::from_secs(10),
        }
    }

    #[test]
    fn debug_shows_the_mode_never_the_key() {
        for (key, mode) in [
            ("sk_test_s3cr3t", "test"),
            ("sk_live_s3cr3t", "live"),
            ("rk_live_s3cr3t", "live"),
        ] {
            let shown = format!("{:?}", config(key));
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(
                shown.contains("<redacted>") && shown.contains(mode),
                "{shown}"
            );
        }
    }

    #[test]
    fn only_plain_http_urls_are_api_bases() {
        for good in [
            "https://api.stripe.com",
            "http://127.0.0.1:8420",
            "http://x/stripe",
        ] {
            let c = StripeConfig {
                api_base: good.into(),
                ..config("sk_test_1")
            };
            assert!(c.base_url().is_ok(), "{good}");
        }
        for bad in [
            "",
            "api.stripe.com",
            "ftp://x",
            "https://u:p@x",
            "https://x/?a=1",
        ] {
            let c = StripeConfig {
                api_base: bad.into(),
                ..config("sk_test_1")
            };
            assert!(c.base_url().is_err(), "{bad}");
        }
    }
}
