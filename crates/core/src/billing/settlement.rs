//! What a payment's later news does to an invoice that is not being charged: a pure function
//! from (the invoice, the news) to its new state and effects, beside the claim's
//! [`super::transition`] (whose outcomes it reuses). The news comes from the provider's events
//! (webhooks) or from asking it (reconciliation); storage only persists what this returns,
//! fenced on the invoice's status and claim fence as they were read.

use antaeus_models::{AttemptOutcome, InvoiceStatus};
use chrono::{DateTime, Utc};

use super::RetryPolicy;
use super::state_machine::{ChargeEvent, ChargeState, Transition, transition};

/// What the provider says happened to one payment of the invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentNews {
    /// It went through.
    Succeeded,
    /// It is being decided.
    Processing,
    /// An attempt to complete it failed.
    Failed {
        /// The provider's reason.
        code: Option<String>,
        /// The customer must act; the payment waits for them.
        action_required: bool,
    },
    /// It can never complete now.
    Canceled {
        /// Why, when the provider said.
        reason: Option<String>,
    },
}

/// The invoice as settling sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settling {
    /// Its status.
    pub status: InvoiceStatus,
    /// Its billing counters.
    pub state: ChargeState,
    /// When it is due next (kept by a change that does not reschedule it).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The payment that may still complete, if any.
    pub open_intent: Option<String>,
    /// The payment that paid it, if it is PAID.
    pub payment_ref: Option<String>,
    /// Whether the payment the news is about was made under the invoice's current key (not an
    /// earlier key's, which a definitive decision has moved on from).
    pub current_key: bool,
}

/// What to persist, as one write fenced on the invoice as it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The invoice is being charged: the claim's own call will learn it; ask again later.
    Defer,
    /// Nothing changes (the news was known, or says nothing new); the attempt is annotated.
    Note,
    /// The invoice moves: the transition, with the payment the news is about as the call's
    /// reference (`open_intent` is relative to it).
    Move(Transition),
    /// Only the payment that may still complete changes.
    OpenIntent(Option<String>),
    /// A second payment went through for an invoice already paid by another: the customer was
    /// charged twice. Never silent.
    DoubleCharged,
}

/// What `news` about the payment `intent` does to `invoice`.
pub fn settle(
    invoice: &Settling,
    intent: &str,
    news: &PaymentNews,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
) -> Settlement {
    if invoice.status == InvoiceStatus::Charging {
        return Settlement::Defer;
    }
    // The current key's payment, still unknown to the invoice (processing): a decision now
    // is the decision of the attempt, as if the call had answered it.
    let decides_attempt = invoice.current_key
        && invoice.status == InvoiceStatus::Pending
        && invoice.state.unknown_streak > 0;
    match news {
        PaymentNews::Succeeded => match invoice.status {
            InvoiceStatus::Paid if invoice.payment_ref.as_deref().is_none_or(|r| r == intent) => {
                Settlement::Note
            }
            InvoiceStatus::Paid => Settlement::DoubleCharged,
            // PENDING (a retry waits, an outcome unknown), FAILED (the schedule ran out while
            // the customer was completing it), VOID (never meant to happen: the books follow
            // the provider): the invoice is paid, whatever key made the payment.
            _ => Settlement::Move(transition(
                invoice.state,
                invoice.next_attempt_at,
                ChargeEvent::Called(AttemptOutcome::Charged),
                policy,
                now,
            )),
        },
        PaymentNews::Processing => match invoice.status {
            InvoiceStatus::Paid => Settlement::Note,
            // Another payment already waits (a later key's, waiting for the customer): this
            // news is stale (a key moves on only once its payment is decided), and the one
            // that waits must never be forgotten.
            _ if invoice.open_intent.is_some() => Settlement::Note,
            // It may still complete: the next key's attempt asks about it first, and the
            // invoice cannot be voided meanwhile.
            _ => Settlement::OpenIntent(Some(intent.to_owned())),
        },
        PaymentNews::Failed {
            action_required, ..
        } if decides_attempt => {
            let event = if *action_required {
                ChargeEvent::DeclinedActionRequired
            } else {
                ChargeEvent::Called(AttemptOutcome::Declined)
            };
            Settlement::Move(transition(
                invoice.state,
                invoice.next_attempt_at,
                event,
                policy,
                now,
            ))
        }
        PaymentNews::Canceled { .. } if decides_attempt => Settlement::Move(transition(
            invoice.state,
            invoice.next_attempt_at,
            ChargeEvent::Called(AttemptOutcome::Declined),
            policy,
            now,
        )),
        PaymentNews::Canceled { .. } if invoice.open_intent.as_deref() == Some(intent) => {
            Settlement::OpenIntent(None)
        }
        // A failed authentication leaves the payment waiting for the customer again; a
        // cancellation of a payment not open changes nothing.
        PaymentNews::Failed { .. } | PaymentNews::Canceled { .. } => Settlement::Note,
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::EventKind;

    use super::super::state_machine::OpenIntent;
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn invoice(status: InvoiceStatus) -> Settling {
        Settling {
            status,
            state: ChargeState {
                key_seq: 1,
                declines: 1,
                unknown_streak: 0,
            },
            next_attempt_at: Some(now()),
            open_intent: Some("pi_1".into()),
            payment_ref: None,
            current_key: false,
        }
    }

    fn go(invoice: &Settling, intent: &str, news: PaymentNews) -> Settlement {
        settle(invoice, intent, &news, &RetryPolicy::default(), now())
    }

    #[test]
    fn a_payment_that_went_through_pays_the_invoice_whatever_key_made_it() {
        for status in [
            InvoiceStatus::Pending,
            InvoiceStatus::Failed,
            InvoiceStatus::Void,
        ] {
            let Settlement::Move(t) = go(&invoice(status), "pi_1", PaymentNews::Succeeded) else {
                panic!("{status:?}");
            };
            assert_eq!(t.status, InvoiceStatus::Paid);
            assert_eq!(t.next_attempt_at, None, "the pending retry is dropped");
            assert_eq!(t.failure_reason, None);
            assert_eq!(t.event, Some(EventKind::Paid));
            assert_eq!(t.open_intent, OpenIntent::Clear);
        }
    }

    #[test]
    fn news_of_an_invoice_being_charged_waits_for_the_claim() {
        for news in [
            PaymentNews::Succeeded,
            PaymentNews::Processing,
            PaymentNews::Canceled { reason: None },
        ] {
            assert_eq!(
                go(&invoice(InvoiceStatus::Charging), "pi_1", news.clone()),
                Settlement::Defer,
                "{news:?}"
            );
        }
    }

    #[test]
    fn a_second_payment_of_a_paid_invoice_is_a_double_charge_and_the_same_one_is_nothing() {
        let paid = Settling {
            payment_ref: Some("pi_1".into()),
            ..invoice(InvoiceStatus::Paid)
        };
        assert_eq!(go(&paid, "pi_1", PaymentNews::Succeeded), Settlement::Note);
        assert_eq!(
            go(&paid, "pi_2", PaymentNews::Succeeded),
            Settlement::DoubleCharged
        );
    }

    #[test]
    fn the_current_keys_processing_payment_decided_later_decides_the_attempt() {
        let processing = Settling {
            status: InvoiceStatus::Pending,
            state: ChargeState {
                key_seq: 1,
                declines: 0,
                unknown_streak: 1,
            },
            current_key: true,
            ..invoice(InvoiceStatus::Pending)
        };
        let failed = go(
            &processing,
            "pi_1",
            PaymentNews::Failed {
                code: Some("insufficient_funds".into()),
                action_required: false,
            },
        );
        let Settlement::Move(t) = failed else {
            panic!("{failed:?}")
        };
        assert_eq!(t.status, InvoiceStatus::Pending);
        assert_eq!(t.state.key_seq, 2, "decided: the next attempt is a new key");
        assert_eq!(t.event, Some(EventKind::ChargeDeclined));
    }

    #[test]
    fn an_earlier_keys_payment_only_changes_what_waits_for_the_customer() {
        let waiting = invoice(InvoiceStatus::Pending);
        assert_eq!(
            go(&waiting, "pi_1", PaymentNews::Canceled { reason: None }),
            Settlement::OpenIntent(None)
        );
        assert_eq!(
            go(
                &waiting,
                "pi_1",
                PaymentNews::Failed {
                    code: None,
                    action_required: true
                }
            ),
            Settlement::Note,
            "still waiting for the customer"
        );
        // A late `processing` of an earlier payment never replaces the one that waits.
        assert_eq!(
            go(&waiting, "pi_9", PaymentNews::Processing),
            Settlement::Note
        );
        let nothing_open = Settling {
            open_intent: None,
            ..waiting
        };
        assert_eq!(
            go(&nothing_open, "pi_9", PaymentNews::Processing),
            Settlement::OpenIntent(Some("pi_9".into()))
        );
    }
}
