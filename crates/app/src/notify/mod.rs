//! Notifiers: where billing events go.
//!
//! [`WebhookNotifier`] delivers each event as a signed HTTP POST; receivers check the signature
//! with [`verify`].

pub mod signature;
pub mod webhook;

pub use signature::{
    DEFAULT_TOLERANCE_SECS, SIGNATURE_HEADER, SignatureError, sign, sign_with_each, verify,
};
pub use webhook::{
    EVENT_ID_HEADER, EVENT_TYPE_HEADER, WebhookConfig, WebhookError, WebhookNotifier,
};
