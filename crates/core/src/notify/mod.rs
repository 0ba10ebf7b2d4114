//! Failure notifications: the notifier trait, a logging notifier, and the outbox worker that
//! delivers events written by billing.

mod log_notifier;
mod outbox_config;
mod outbox_worker;

use antaeus_models::Notification;
use async_trait::async_trait;
use thiserror::Error;

pub use log_notifier::LogNotifier;
pub use outbox_config::{AfterFailure, OutboxConfig};
pub use outbox_worker::{DeliveryReport, OutboxWorker};

/// Why an event was not delivered; the outbox tries again later either way.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NotifyError {
    /// The receiver could not be reached or answered with a server error.
    #[error("receiver unavailable: {0}")]
    Unavailable(String),
    /// The receiver refused the event.
    #[error("receiver refused the event: {0}")]
    Rejected(String),
}

/// Tells interested parties about billing events (the seed's "failure notificator").
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait FailureNotifier: Send + Sync {
    /// Delivers one event; receivers deduplicate by `event.id`, so delivering twice is safe.
    async fn notify(&self, event: &Notification) -> Result<(), NotifyError>;
}
