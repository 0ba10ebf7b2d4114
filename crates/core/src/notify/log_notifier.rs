use antaeus_models::{EventKind, Notification};
use async_trait::async_trait;

use super::{FailureNotifier, NotifyError};

/// Writes each event to the log: run ends at info; invoice events at debug level (the billing
/// engine already logs one line per failed invoice, and a monthly run can decline thousands).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl FailureNotifier for LogNotifier {
    async fn notify(&self, event: &Notification) -> Result<(), NotifyError> {
        let subject = match (&event.data.invoice, &event.data.run) {
            (Some(i), _) => format!(
                "invoice {} (customer {}, {} {}): status {}, attempts {}, reason {}, next attempt {}",
                i.id,
                i.customer_id,
                i.amount,
                i.currency,
                i.status,
                i.attempts,
                i.failure_reason.map_or("-", |r| r.as_str()),
                i.next_attempt_at
                    .map_or_else(|| "-".to_owned(), |t| t.to_rfc3339()),
            ),
            (None, Some(r)) => format!("run {} {}: {:?}", r.id, r.status, r.counts),
            (None, None) => String::new(),
        };
        match event.kind {
            EventKind::ChargeFailed
            | EventKind::RetriesExhausted
            | EventKind::ChargeDeclined
            | EventKind::Paid
            | EventKind::Voided
            | EventKind::PaymentActionRequired => log::debug!("{}: {subject}", event.kind),
            EventKind::RunCompleted | EventKind::Refunded | EventKind::DisputeClosed => {
                log::info!("{}: {subject}", event.kind)
            }
            EventKind::DoubleCharged | EventKind::Disputed => {
                log::warn!("{}: {subject}", event.kind)
            }
        }
        Ok(())
    }
}
