//! A payment succeeded, is processing, failed or was canceled: what that does to its invoice.

use antaeus_models::{AttemptOutcome, EventKind, Invoice, InvoiceId};

use crate::billing::{PaymentNews, Settlement, Settling, settle};
use crate::provider_events::{PaymentChange, ProviderEvent};
use crate::store::{
    AttemptNote, HandledEvent, InvoiceChange, PaymentView, PaymentWrite, PaymentWriteOutcome,
};

use super::announce::announce;
use super::resolve::Ours;
use super::{PaymentEventService, Received, ServiceError};

/// How often a write that lost a race with another change is tried again from a fresh read.
const TRIES: usize = 5;

/// Where the news came from: a provider event, or asking the provider.
pub(super) struct Source<'a> {
    pub event: Option<&'a ProviderEvent>,
    /// For people and the record.
    pub label: String,
}

impl PaymentEventService {
    /// Applies `event`'s news about a payment of `ours`' invoice.
    pub(super) async fn news(
        &self,
        event: &ProviderEvent,
        ours: Ours,
    ) -> Result<Received, ServiceError> {
        let news = match &event.change {
            PaymentChange::Succeeded => PaymentNews::Succeeded,
            PaymentChange::Processing => PaymentNews::Processing,
            PaymentChange::Failed {
                code,
                action_required,
            } => PaymentNews::Failed {
                code: code.clone(),
                action_required: *action_required,
            },
            PaymentChange::Canceled { reason } => PaymentNews::Canceled {
                reason: reason.clone(),
            },
            _ => unreachable!("only payment news comes here"),
        };
        let source = Source {
            event: Some(event),
            label: format!("{} ({})", event.kind, event.id),
        };
        self.settle_news(ours, &news, &source).await
    }

    /// Settles `news` about `ours`' payment, read again and retried while the invoice changes
    /// under it.
    pub(super) async fn settle_news(
        &self,
        mut ours: Ours,
        news: &PaymentNews,
        source: &Source<'_>,
    ) -> Result<Received, ServiceError> {
        let Some(intent) = ours.intent.clone() else {
            return Err(ServiceError::Invalid(format!(
                "{}: the payment has no provider id",
                source.label
            )));
        };
        for _ in 0..TRIES {
            let view = &ours.view;
            let id = view.invoice.id;
            let settling = Settling {
                status: view.invoice.status,
                state: view.state,
                next_attempt_at: view.invoice.next_attempt_at,
                open_intent: view.open_intent.clone(),
                payment_ref: view.payment_ref.clone(),
                current_key: ours.current_key(),
            };
            let now = self.now();
            let plan = settle(&settling, &intent, news, &self.policy, now);
            let (change, notification, said) = match plan {
                Settlement::Defer => return Err(ServiceError::InvoiceCharging(id)),
                Settlement::Note => (InvoiceChange::None, None, "known already".to_owned()),
                Settlement::OpenIntent(open) => {
                    let said = match &open {
                        Some(p) => format!("payment {p} may still complete"),
                        None => format!("payment {intent} can no longer complete"),
                    };
                    (InvoiceChange::OpenIntent(open), None, said)
                }
                Settlement::DoubleCharged => {
                    log::error!(
                        "invoice {id} was charged twice: payment {intent} went through, and {} paid it already; refund one",
                        view.payment_ref.as_deref().unwrap_or("another")
                    );
                    let after = Invoice {
                        extra_charges: view.invoice.extra_charges + 1,
                        ..view.invoice.clone()
                    };
                    let told = announce(
                        EventKind::DoubleCharged,
                        &after,
                        &intent,
                        ours.key.as_deref(),
                        now,
                    );
                    (
                        InvoiceChange::ExtraCharge,
                        Some(told),
                        format!("invoice {id} charged twice: {intent} beside its payment"),
                    )
                }
                Settlement::Move(transition) => {
                    let after = Invoice {
                        status: transition.status,
                        next_attempt_at: transition.next_attempt_at,
                        failure_reason: transition.failure_reason,
                        ..view.invoice.clone()
                    };
                    let told = transition
                        .event
                        .map(|kind| announce(kind, &after, &intent, ours.key.as_deref(), now));
                    let said = format!("invoice {id} is now {}", transition.status);
                    let change = InvoiceChange::Move {
                        transition,
                        payment: intent.clone(),
                    };
                    (change, told, said)
                }
            };
            let attempt = ours
                .key
                .clone()
                .map(|key| attempt_note(key, &intent, news, &change, &source.label));
            let write = PaymentWrite {
                event: source.event.map(|e| HandledEvent {
                    id: e.id.clone(),
                    kind: e.kind.clone(),
                    outcome: said.clone(),
                }),
                invoice: id,
                expected_status: view.invoice.status,
                expected_fence: view.fence,
                change,
                attempt,
                notification,
                at: now,
            };
            match self.deps.store.write_payment(&write).await? {
                PaymentWriteOutcome::Applied => {
                    log::info!("{}: {said}", source.label);
                    return Ok(Received::Applied(said));
                }
                PaymentWriteOutcome::AlreadyHandled => return Ok(Received::Duplicate),
                PaymentWriteOutcome::Conflict => {
                    ours.view = self.reread(id).await?;
                }
            }
        }
        Err(ServiceError::InvoiceCharging(ours.view.invoice.id))
    }

    async fn reread(&self, id: InvoiceId) -> Result<PaymentView, ServiceError> {
        self.deps
            .store
            .payment_view(id)
            .await?
            .ok_or(ServiceError::InvoiceNotFound(id))
    }
}

/// What the news changes on the attempt whose key made the payment: a decided outcome when the
/// invoice moves on it (or it is the payment that paid it), its reference, what was said.
fn attempt_note(
    key: String,
    intent: &str,
    news: &PaymentNews,
    change: &InvoiceChange,
    label: &str,
) -> AttemptNote {
    let (outcome, decline_code) = match (news, change) {
        (PaymentNews::Succeeded, _) => (Some(AttemptOutcome::Charged), None),
        (PaymentNews::Failed { code, .. }, InvoiceChange::Move { .. }) => {
            (Some(AttemptOutcome::Declined), code.clone())
        }
        (PaymentNews::Canceled { reason }, InvoiceChange::Move { .. }) => (
            Some(AttemptOutcome::Declined),
            Some(reason.clone().unwrap_or_else(|| "canceled".into())),
        ),
        _ => (None, None),
    };
    AttemptNote {
        key,
        outcome,
        decline_code,
        provider_ref: intent.to_owned(),
        message: format!("the provider said later: {label}"),
    }
}
