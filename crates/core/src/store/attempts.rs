//! The charge-attempt log.

use antaeus_models::{CallCounts, ChargeAttempt, InvoiceId, RunId};
use async_trait::async_trait;

use super::StoreError;

/// Reads the log of provider calls.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AttemptStore: Send + Sync {
    /// Every attempt for `invoice`, oldest first.
    async fn list_attempts(&self, invoice: InvoiceId) -> Result<Vec<ChargeAttempt>, StoreError>;

    /// The provider calls made during `run`, by outcome.
    async fn run_calls(&self, run: RunId) -> Result<CallCounts, StoreError>;
}
