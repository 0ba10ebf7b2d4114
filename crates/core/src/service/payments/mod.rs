//! The payment's life after the call: the provider's events (webhooks) and its answers when
//! asked (reconciliation) applied to invoices through [`crate::billing::settle`] and the
//! store's fences, never around them.
//!
//! A payment counts only when it is this deployment's: its key was sent for the invoice (or the
//! invoice records the payment), its deployment is this one, and its amount and currency are
//! the invoice's. Anything else is logged and recorded as ignored.

mod announce;
mod disputes;
mod news;
mod reconcile;
mod resolve;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use antaeus_models::InvoiceId;
use chrono::{DateTime, Utc};

pub use reconcile::ReconcileReport;

use super::ServiceError;
use crate::billing::RetryPolicy;
use crate::provider_events::{PaymentChange, ProviderEvent, WebhookDelivery, WebhookReader};
use crate::store::{HandledEvent, PaymentStore, ProviderRefundNews, RefundStore};
use crate::{Clock, PaymentProvider};

/// What handling one provider event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// It changed something (or confirmed what was known), as said.
    Applied(String),
    /// It was handled before: nothing changed.
    Duplicate,
    /// It is not acted on, for this reason (a type not handled, not this deployment's payment).
    Ignored(String),
}

/// What the payment event service needs.
#[derive(Clone)]
pub struct PaymentEventDeps {
    /// Invoices and their payments.
    pub store: Arc<dyn PaymentStore>,
    /// Refunds, which the provider's events settle and add to.
    pub refunds: Arc<dyn RefundStore>,
    /// Reads the provider's webhook deliveries; `None` when they are not configured.
    pub reader: Option<Arc<dyn WebhookReader>>,
    /// The provider, asked about payments that may still complete.
    pub provider: Arc<dyn PaymentProvider>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
}

/// Applies what a payment provider tells about payments after the call.
#[derive(Clone)]
pub struct PaymentEventService {
    deps: PaymentEventDeps,
    policy: RetryPolicy,
    call_timeout: Duration,
}

impl PaymentEventService {
    /// A service settling with the dunning `policy`, asking the provider with `call_timeout`.
    pub fn new(deps: PaymentEventDeps, policy: RetryPolicy, call_timeout: Duration) -> Self {
        Self {
            deps,
            policy,
            call_timeout,
        }
    }

    /// Whether webhook deliveries can be read (a secret is configured).
    pub fn accepts_webhooks(&self) -> bool {
        self.deps.reader.is_some()
    }

    /// Verifies, reads and applies one webhook delivery (`signature` is its signature header).
    pub async fn receive(
        &self,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<Received, ServiceError> {
        let reader = self.deps.reader.as_ref().ok_or(ServiceError::WebhooksOff)?;
        let now = self.now();
        match reader.read(signature, body, now)? {
            WebhookDelivery::Event(event) => self.apply(&event).await,
            WebhookDelivery::Ignored { id, kind } => {
                let handled = HandledEvent {
                    id,
                    kind,
                    outcome: "ignored: a type Antaeus does not act on".into(),
                };
                self.ignore(&handled, None).await
            }
        }
    }

    /// Applies one provider event.
    pub async fn apply(&self, event: &ProviderEvent) -> Result<Received, ServiceError> {
        let resolved = self.resolve(&event.payment).await?;
        let ours = match resolved {
            resolve::Resolved::Ours(ours) => *ours,
            resolve::Resolved::NotOurs(why) => {
                log::info!(
                    "provider event {} ({}) ignored: {why}",
                    event.id,
                    event.kind
                );
                let handled = HandledEvent {
                    id: event.id.clone(),
                    kind: event.kind.clone(),
                    outcome: format!("ignored: {why}"),
                };
                return self.ignore(&handled, None).await;
            }
        };
        match &event.change {
            PaymentChange::Succeeded
            | PaymentChange::Processing
            | PaymentChange::Failed { .. }
            | PaymentChange::Canceled { .. } => self.news(event, ours).await,
            PaymentChange::Disputed(report) => self.dispute(event, ours, report, false).await,
            PaymentChange::DisputeClosed(report) => self.dispute(event, ours, report, true).await,
            PaymentChange::Refunded {
                total_refunded_minor,
            } => {
                let news = ProviderRefundNews::Total(*total_refunded_minor);
                self.refund_news(event, &ours, &news).await
            }
            PaymentChange::RefundUpdated(refund) => {
                let news = ProviderRefundNews::One(refund.clone());
                self.refund_news(event, &ours, &news).await
            }
        }
    }

    /// Records what `event` tells about refunds of `ours`' payment.
    async fn refund_news(
        &self,
        event: &ProviderEvent,
        ours: &resolve::Ours,
        news: &ProviderRefundNews,
    ) -> Result<Received, ServiceError> {
        let said = match news {
            ProviderRefundNews::Total(total) => {
                format!("the provider has refunded {total} (minor units) of its payment")
            }
            ProviderRefundNews::One(r) => format!(
                "refund {} of {} (minor units) {}",
                r.id,
                r.amount_minor,
                if r.succeeded {
                    "went through"
                } else {
                    "failed"
                }
            ),
        };
        let handled = HandledEvent {
            id: event.id.clone(),
            kind: event.kind.clone(),
            outcome: said.clone(),
        };
        let id = ours.view.invoice.id;
        let new = self
            .deps
            .refunds
            .record_provider_refund(&handled, id, news, self.now())
            .await?;
        Ok(if new {
            log::info!("{} ({}): invoice {id}: {said}", event.kind, event.id);
            Received::Applied(said)
        } else {
            Received::Duplicate
        })
    }

    /// Records an event that changes nothing.
    async fn ignore(
        &self,
        handled: &HandledEvent,
        invoice: Option<InvoiceId>,
    ) -> Result<Received, ServiceError> {
        let new = self
            .deps
            .store
            .note_event(handled, invoice, self.now())
            .await?;
        Ok(if new {
            Received::Ignored(handled.outcome.clone())
        } else {
            Received::Duplicate
        })
    }

    fn now(&self) -> DateTime<Utc> {
        self.deps.clock.now()
    }
}
