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
