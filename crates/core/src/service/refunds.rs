//! Refunding paid invoices: recorded before the provider is asked (the intent, with what is
//! left reserved), sent under a key of the refund's own, and the answer recorded after; a lost
//! answer leaves the refund pending, asked again under the same key by reconciliation.

use std::sync::Arc;
use std::time::Duration;

use antaeus_models::{IdempotencyKey, InvoiceId, Refund, RefundId};
use chrono::TimeDelta;
use rust_decimal::Decimal;

use super::ServiceError;
use super::fingerprint::Fingerprint;
use crate::error_report::one_line;
use crate::store::{NewRefund, RefundEnd, RefundStart, RefundStore, RefundToSend};
use crate::{Clock, PaymentProvider, ProviderError, RefundDecision, RefundRequest};

/// The longest reason kept with a refund.
pub const MAX_REASON: usize = 500;

/// Refunds paid invoices through the payment provider.
#[derive(Clone)]
pub struct RefundService {
    store: Arc<dyn RefundStore>,
    provider: Arc<dyn PaymentProvider>,
    clock: Arc<dyn Clock>,
    call_timeout: Duration,
}

impl RefundService {
    /// Refunds through `provider`, recorded in `store`, each call bounded by `call_timeout`.
    pub fn new(
        store: Arc<dyn RefundStore>,
        provider: Arc<dyn PaymentProvider>,
        clock: Arc<dyn Clock>,
        call_timeout: Duration,
    ) -> Self {
        Self {
            store,
            provider,
            clock,
            call_timeout,
        }
    }

    /// Refunds `amount` of invoice `id` (what is left when `None`) for `reason`; a request
    /// repeated under its `key` answers the refund the first made. Returns the refund and
    /// whether it was made now.
    pub async fn refund(
        &self,
        id: InvoiceId,
        amount: Option<Decimal>,
        reason: Option<String>,
        key: Option<IdempotencyKey>,
    ) -> Result<(Refund, bool), ServiceError> {
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if reason.as_ref().is_some_and(|r| r.len() > MAX_REASON) {
            return Err(ServiceError::Invalid(format!(
                "reason is longer than {MAX_REASON} bytes"
            )));
        }
        super::text::check_text("reason", reason.as_deref())?;
        let fingerprint = Fingerprint::of("refund")
            .field("amount", amount.map(|a| a.normalize().to_string()))
            .field("reason", reason.clone())
            .finish();
        let request = NewRefund {
            invoice: id,
            amount,
            reason,
            request: key.clone().map(|k| (k, fingerprint)),
            at: self.clock.now(),
        };
        match self.store.begin_refund(&request).await? {
            RefundStart::Started(to_send) => Ok((self.send(&to_send).await?, true)),
            RefundStart::Replayed(refund) => Ok((*refund, false)),
            RefundStart::KeyReused => Err(match key {
                Some(key) => ServiceError::KeyReused(key),
                None => {
                    ServiceError::Invalid("storage refused a key the request did not carry".into())
                }
            }),
            RefundStart::NotFound => Err(ServiceError::InvoiceNotFound(id)),
            RefundStart::NotPaid(status) => Err(ServiceError::RefundRefused(format!(
                "invoice {id} is {status}: only a PAID invoice can be refunded"
            ))),
            RefundStart::NoPayment => Err(ServiceError::RefundRefused(format!(
                "invoice {id} is PAID, but no payment of it is recorded that the provider could refund"
            ))),
            RefundStart::Exceeds { asked, left } => Err(ServiceError::RefundRefused(format!(
                "refunding {asked} of invoice {id}, but only {left} is left to refund"
            ))),
            RefundStart::Invalid(why) => Err(ServiceError::Invalid(why)),
        }
    }

    /// The invoice's refunds, oldest first.
    pub async fn list(&self, id: InvoiceId) -> Result<Vec<Refund>, ServiceError> {
        Ok(self.store.list_refunds(id).await?)
    }

    /// Asks the provider again about refunds whose answer was lost, under their keys; returns
    /// how many were asked.
    pub async fn resend_due(&self) -> Result<usize, ServiceError> {
        let due = self.store.due_refunds(self.clock.now(), 100).await?;
        for to_send in &due {
            self.send(to_send).await?;
        }
        Ok(due.len())
    }

    /// Sends `to_send` to the provider and records its answer.
    async fn send(&self, to_send: &RefundToSend) -> Result<Refund, ServiceError> {
        let refund = &to_send.refund;
        let request = RefundRequest {
            refund: refund.id,
            invoice: to_send.invoice.clone(),
            payment_ref: to_send.payment_ref.clone(),
            amount: refund.amount,
            reason: refund.reason.clone(),
            key: IdempotencyKey::parse(refund.provider_key.clone())
                .map_err(|e| ServiceError::Invalid(e.to_string()))?,
            namespace: Some(to_send.namespace.clone()).filter(|ns| !ns.is_empty()),
            resend: refund.attempts > 1,
        };
        self.provider.wait_turn().await;
        let answer = tokio::time::timeout(self.call_timeout, self.provider.refund(&request)).await;
        let now = self.clock.now();
        let end = match answer {
            Ok(Ok(RefundDecision::Refunded { refund_ref })) => RefundEnd::Succeeded { refund_ref },
            Ok(Ok(RefundDecision::Refused { code })) => RefundEnd::Failed { reason: code },
            // Our own key, sent before: what it made is asked about again later, never taken
            // for a refusal (the first call may have refunded).
            Ok(Err(ProviderError::IdempotencyKeyReused)) if request.resend => unknown(
                refund.id,
                refund.attempts,
                "the provider holds this refund's key with other parameters".into(),
                now,
            ),
            Ok(Err(ProviderError::IdempotencyKeyReused)) => RefundEnd::Failed {
                reason: "idempotency_key_reused".into(),
            },
            Ok(Err(err)) => unknown(refund.id, refund.attempts, one_line(&err), now),
            Err(_) => unknown(
                refund.id,
                refund.attempts,
                "no answer within the call timeout".into(),
                now,
            ),
        };
        let finished = self.store.finish_refund(refund.id, &end, now).await?;
        log::info!(
            "refund {} of invoice {} ({}): {}",
            finished.id,
            finished.invoice_id,
            finished.amount,
            finished.status
        );
        Ok(finished)
    }
}

/// A lost answer: pending, asked again after a wait that doubles with each try (30 s to 1 h).
fn unknown(
    id: RefundId,
    attempts: u32,
    message: String,
    now: chrono::DateTime<chrono::Utc>,
) -> RefundEnd {
    log::warn!("refund {id}: the provider's answer is unknown ({message}); it is asked again");
    let wait = 30_i64.saturating_mul(1 << attempts.min(7)).min(3_600);
    RefundEnd::Unknown {
        message,
        retry_at: now + TimeDelta::seconds(wait),
    }
}
