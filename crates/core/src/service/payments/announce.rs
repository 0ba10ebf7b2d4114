//! The events settling announces: an invoice paid by a payment made later, charged twice,
//! disputed; each with a stable id per invoice, kind and payment, so that it goes out once.

use antaeus_models::{AttemptOutcome, EventData, EventKind, Invoice, InvoiceEvent, Notification};
use chrono::{DateTime, Utc};

/// `kind` about `invoice` (as it is after the change), caused by `payment`.
pub(super) fn announce(
    kind: EventKind,
    invoice: &Invoice,
    payment: &str,
    key: Option<&str>,
    now: DateTime<Utc>,
) -> Box<Notification> {
    let outcome = match kind {
        EventKind::Paid | EventKind::DoubleCharged => Some(AttemptOutcome::Charged),
        EventKind::ChargeDeclined
        | EventKind::PaymentActionRequired
        | EventKind::RetriesExhausted => Some(AttemptOutcome::Declined),
        _ => None,
    };
    let mut data = InvoiceEvent::of(invoice, outcome, None);
    data.idempotency_key = key.map(str::to_owned);
    match kind {
        EventKind::Paid => data.charge_id = Some(payment.to_owned()),
        _ => data.payment_intent_id = Some(payment.to_owned()),
    }
    Box::new(Notification {
        id: format!("evt_{}_{}_{payment}", invoice.id, kind.as_str()),
        kind,
        created_at: now,
        data: EventData {
            invoice: Some(data),
            run: None,
        },
    })
}
