//! Reconciliation: payments that may still complete (waiting for the customer, processing)
//! are asked about now and then, so that a lost webhook heals without waiting for the next
//! dunning step.

use antaeus_models::{InvoiceId, InvoiceStatus};

use crate::billing::PaymentNews;
use crate::error_report::one_line;
use crate::{PaymentLookup, PaymentState, Shutdown};

use super::news::Source;
use super::resolve::Ours;
use super::{PaymentEventService, Received, ServiceError};

/// Invoices asked about per page.
const PAGE: u32 = 100;

/// What one pass of reconciliation did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Payments asked about.
    pub asked: u64,
    /// Payments whose news changed their invoice.
    pub settled: u64,
    /// Payments the provider could not tell about now.
    pub failed: u64,
}

impl PaymentEventService {
    /// Asks the provider about every payment that may still complete, and settles what it
    /// says; stops early on `shutdown`.
    pub async fn reconcile(&self, shutdown: &Shutdown) -> Result<ReconcileReport, ServiceError> {
        let mut report = ReconcileReport::default();
        let mut after: Option<InvoiceId> = None;
        loop {
            let page = self.deps.store.open_payments(after, PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(report);
            };
            after = Some(last.invoice.id);
            for view in page {
                if shutdown.is_requested() {
                    return Ok(report);
                }
                let Some(intent) = view.open_intent.clone() else {
                    continue;
                };
                report.asked += 1;
                let lookup = PaymentLookup {
                    invoice: view.invoice.clone(),
                    reference: intent.clone(),
                    namespace: view.key_namespace.clone().filter(|ns| !ns.is_empty()),
                };
                // An invoice given up on (FAILED after the last dunning step, or VOID) must not be
                // paid later by a payment that still waits: it is cancelled; any other is asked.
                let given_up = matches!(
                    view.invoice.status,
                    InvoiceStatus::Failed | InvoiceStatus::Void
                );
                self.deps.provider.wait_turn().await;
                let asked = async {
                    if given_up {
                        self.deps.provider.cancel_payment(&lookup).await
                    } else {
                        self.deps.provider.payment_state(&lookup).await
                    }
                };
                let state = match tokio::time::timeout(self.call_timeout, asked).await {
                    Ok(Ok(state)) => state,
                    Ok(Err(err)) => {
                        log::warn!(
                            "reconciling invoice {}: payment {intent}: {}",
                            view.invoice.id,
                            one_line(&err)
                        );
                        report.failed += 1;
                        continue;
                    }
                    Err(_) => {
                        report.failed += 1;
                        continue;
                    }
                };
                let news = match state {
                    PaymentState::Succeeded => PaymentNews::Succeeded,
                    PaymentState::Processing => PaymentNews::Processing,
                    PaymentState::WaitingOnCustomer { code } => PaymentNews::Failed {
                        code,
                        action_required: true,
                    },
                    PaymentState::Canceled { reason } => PaymentNews::Canceled { reason },
                };
                let key = view
                    .keys
                    .iter()
                    .rev()
                    .find(|(_, r)| r.as_deref() == Some(intent.as_str()))
                    .map(|(k, _)| k.clone());
                let ours = Ours {
                    view,
                    intent: Some(intent.clone()),
                    key,
                };
                let source = Source {
                    event: None,
                    label: format!("reconciling payment {intent}"),
                };
                match self.settle_news(ours, &news, &source).await {
                    Ok(Received::Applied(said)) if said != "known already" => report.settled += 1,
                    Ok(_) | Err(ServiceError::InvoiceCharging(_)) => {}
                    Err(err) => return Err(err),
                }
            }
        }
    }
}
