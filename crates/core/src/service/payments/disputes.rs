//! A cardholder disputes an invoice's payment (a chargeback), and the dispute closes.

use antaeus_models::{Dispute, DisputeEvent, EventKind, Invoice, Money};

use crate::provider_events::{DisputeReport, ProviderEvent};
use crate::store::{HandledEvent, InvoiceChange, PaymentWrite, PaymentWriteOutcome};

use super::announce::announce;
use super::resolve::Ours;
use super::{PaymentEventService, Received, ServiceError};

impl PaymentEventService {
    /// Records the dispute `report` on `ours`' invoice (`closed`: the provider closed it), and
    /// announces it when it opens and when it closes.
    pub(super) async fn dispute(
        &self,
        event: &ProviderEvent,
        mut ours: Ours,
        report: &DisputeReport,
        closed: bool,
    ) -> Result<Received, ServiceError> {
        for _ in 0..5 {
            let view = &ours.view;
            let id = view.invoice.id;
            let currency = view.invoice.amount.currency();
            let dispute = Dispute {
                id: report.id.clone(),
                status: report.status.clone(),
                reason: report.reason.clone(),
                amount: Money::from_minor(report.amount_minor.max(0), currency)
                    .unwrap_or(view.invoice.amount),
                evidence_due_by: report.evidence_due_by,
            };
            let known = view.invoice.dispute.as_deref();
            if let Some(known) = known.filter(|d| is_stale(d, &dispute, closed)) {
                let handled = HandledEvent {
                    id: event.id.clone(),
                    kind: event.kind.clone(),
                    outcome: format!(
                        "dispute {} of invoice {id} is already {}: a late {} changes nothing",
                        known.id, known.status, dispute.status
                    ),
                };
                return self.ignore(&handled, Some(id)).await;
            }
            let kind = if closed {
                Some(EventKind::DisputeClosed)
            } else if known.is_none_or(|d| d.id != dispute.id) {
                Some(EventKind::Disputed)
            } else {
                None
            };
            let now = self.now();
            let after = Invoice {
                dispute: Some(Box::new(dispute.clone())),
                ..view.invoice.clone()
            };
            let notification = kind.map(|kind| {
                let mut told = announce(kind, &after, &dispute.id, None, now);
                if let Some(invoice) = told.data.invoice.as_mut() {
                    invoice.payment_intent_id = ours.intent.clone();
                    invoice.dispute = Some(DisputeEvent::from(&dispute));
                }
                // One event per dispute and status, whatever the payment.
                told.id = format!(
                    "evt_{id}_{}_{}_{}",
                    told.kind.as_str(),
                    dispute.id,
                    dispute.status
                );
                told
            });
            let said = format!(
                "invoice {id}'s payment is disputed ({}, {}): {}",
                dispute.reason, dispute.amount, dispute.status
            );
            let write = PaymentWrite {
                event: Some(HandledEvent {
                    id: event.id.clone(),
                    kind: event.kind.clone(),
                    outcome: said.clone(),
                }),
                invoice: id,
                expected_status: view.invoice.status,
                expected_fence: view.fence,
                change: InvoiceChange::Dispute(Box::new(dispute)),
                attempt: None,
                notification,
                at: now,
            };
            match self.deps.store.write_payment(&write).await? {
                PaymentWriteOutcome::Applied => {
                    log::warn!("{} ({}): {said}", event.kind, event.id);
                    return Ok(Received::Applied(said));
                }
                PaymentWriteOutcome::AlreadyHandled => return Ok(Received::Duplicate),
                PaymentWriteOutcome::Conflict => {
                    ours.view = self
                        .deps
                        .store
                        .payment_view(id)
                        .await?
                        .ok_or(ServiceError::InvoiceNotFound(id))?;
                }
            }
        }
        Err(ServiceError::InvoiceCharging(ours.view.invoice.id))
    }
}

/// Whether `report` (`closed`: the provider said the dispute closed) arrived after `known`
/// had already closed: Stripe does not order its events, and a dispute never reopens.
fn is_stale(known: &Dispute, report: &Dispute, closed: bool) -> bool {
    known.id == report.id && known.is_closed() && !(closed || report.is_closed())
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, Dispute, Money};

    use super::is_stale;

    fn dispute(id: &str, status: &str) -> Dispute {
        Dispute {
            id: id.to_owned(),
            status: status.to_owned(),
            reason: "fraudulent".to_owned(),
            amount: Money::from_minor(100, Currency::EUR).unwrap(),
            evidence_due_by: None,
        }
    }

    #[test]
    fn an_open_status_after_the_dispute_closed_is_stale_and_a_new_dispute_is_not() {
        let won = dispute("dp_1", "won");
        assert!(is_stale(&won, &dispute("dp_1", "needs_response"), false));
        assert!(is_stale(&won, &dispute("dp_1", "under_review"), false));
        assert!(!is_stale(&won, &dispute("dp_1", "lost"), true));
        assert!(!is_stale(&won, &dispute("dp_2", "needs_response"), false));
        let open = dispute("dp_1", "needs_response");
        assert!(!is_stale(&open, &dispute("dp_1", "under_review"), false));
        assert!(!is_stale(&open, &dispute("dp_1", "won"), true));
    }
}
