//! The invoice state machine: one pure function from (state, event) to (new state, effects).
//! Storage only persists what it returns.

use antaeus_models::{AttemptOutcome, EventKind, FailureReason, InvoiceStatus};
use chrono::{DateTime, Utc};

use super::RetryPolicy;

/// The billing counters kept on a claimed invoice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChargeState {
    /// Sequence of the current idempotency key; advances after every definitive decision, so
    /// the next attempt is a new charge and never a replay.
    pub key_seq: u32,
    /// Declines so far: the position in the dunning schedule.
    pub declines: u32,
    /// Consecutive runs that ended with the outcome unknown.
    pub unknown_streak: u32,
}

/// What happened to a claimed invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeEvent {
    /// A provider call ended this way (after any resends within the run).
    Called(AttemptOutcome),
    /// The provider refused our idempotency key as reused with another request.
    KeyReused,
    /// Declined, and the customer must act first (authenticate, give another payment
    /// method): a dunning step like any decline, announced as `payment_action_required`.
    DeclinedActionRequired,
    /// The invoice's currency is not its customer's: caught before calling the provider.
    CurrencyMismatchBeforeCall,
    /// The customer has no provider reference to charge: caught before calling the provider.
    NoPaymentMethodBeforeCall,
    /// The provider refuses to charge the amount at all (under its minimum, over its maximum).
    AmountNotChargeable,
    /// Returned unsent (shutdown, provider outage) before any call in this claim.
    ReleasedUnsent,
}

/// Which run counter an event moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunResult {
    /// Now PAID.
    Paid,
    /// Declined, dunning retry scheduled.
    Declined,
    /// Now FAILED.
    Failed,
    /// Outcome unknown; same key later.
    RetryScheduled,
    /// Returned unsent.
    Released,
}

/// What becomes of the provider's payment that may still complete (a PaymentIntent waiting
/// for the customer, or processing), which the next key's attempt must settle first and which
/// keeps the invoice from being voided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenIntent {
    /// Unchanged: nothing was made under a new key (an unknown outcome, nothing sent).
    Keep,
    /// None is open: the provider decided, and settled any earlier one before it made this
    /// payment.
    Clear,
    /// The call's payment (its provider reference) waits on the customer; none if the call
    /// named none.
    FromCall,
    /// The call's payment is still processing; unchanged if the call named none.
    FromCallOrKeep,
}

/// The new state of the invoice and the effects to persist with it, atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transition {
    /// PENDING, PAID or FAILED; the claim ends.
    pub status: InvoiceStatus,
    /// When a PENDING invoice is due next.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why a FAILED invoice failed.
    pub failure_reason: Option<FailureReason>,
    /// The counters after the event.
    pub state: ChargeState,
    /// The event to notify, written to the outbox with the state.
    pub event: Option<EventKind>,
    /// The run counter to move.
    pub result: RunResult,
    /// What becomes of the payment that may still complete.
    pub open_intent: OpenIntent,
}

/// Where `event` takes a claimed invoice that was in `state` and due from `due_at`.
pub fn transition(
    state: ChargeState,
    due_at: Option<DateTime<Utc>>,
    event: ChargeEvent,
    policy: &RetryPolicy,
    now: DateTime<Utc>,
) -> Transition {
    let failed = |reason, state, event| Transition {
        status: InvoiceStatus::Failed,
        next_attempt_at: None,
        failure_reason: Some(reason),
        state,
        event: Some(event),
        result: RunResult::Failed,
        open_intent: OpenIntent::Clear,
    };
    // A definitive decision: the next attempt, if any, is a new charge under a new key.
    let decided = ChargeState {
        key_seq: state.key_seq.saturating_add(1),
        unknown_streak: 0,
        ..state
    };
    match event {
        ChargeEvent::Called(AttemptOutcome::Charged) => Transition {
            status: InvoiceStatus::Paid,
            next_attempt_at: None,
            failure_reason: None,
            state: ChargeState {
                unknown_streak: 0,
                ..state
            },
            event: Some(EventKind::Paid),
            result: RunResult::Paid,
            open_intent: OpenIntent::Clear,
        },
        ChargeEvent::Called(AttemptOutcome::Declined) | ChargeEvent::DeclinedActionRequired => {
            let declined = ChargeState {
                declines: state.declines.saturating_add(1),
                ..decided
            };
            let action = event == ChargeEvent::DeclinedActionRequired;
            let told = if action {
                EventKind::PaymentActionRequired
            } else {
                EventKind::ChargeDeclined
            };
            // A payment waiting for the customer stays open for them to complete, even once
            // the schedule is used up: a payment made later is learnt and the invoice PAID.
            let open_intent = if action {
                OpenIntent::FromCall
            } else {
                OpenIntent::Clear
            };
            match policy.dunning_delay(declined.declines) {
                Some(wait) => Transition {
                    status: InvoiceStatus::Pending,
                    next_attempt_at: Some(now + wait),
                    failure_reason: None,
                    state: declined,
                    event: Some(told),
                    result: RunResult::Declined,
                    open_intent,
                },
                None => Transition {
                    open_intent,
                    ..failed(
                        FailureReason::RetriesExhausted,
                        declined,
                        EventKind::RetriesExhausted,
                    )
                },
            }
        }
        ChargeEvent::Called(AttemptOutcome::CustomerNotFound) => failed(
            FailureReason::CustomerNotFound,
            decided,
            EventKind::ChargeFailed,
        ),
        ChargeEvent::Called(AttemptOutcome::CurrencyMismatch) => failed(
            FailureReason::CurrencyMismatch,
            decided,
            EventKind::ChargeFailed,
        ),
        ChargeEvent::AmountNotChargeable => failed(
            FailureReason::AmountNotChargeable,
            decided,
            EventKind::ChargeFailed,
        ),
        ChargeEvent::CurrencyMismatchBeforeCall => {
            // Nothing was sent, so the key need not advance.
            Transition {
                open_intent: OpenIntent::Keep,
                ..failed(
                    FailureReason::CurrencyMismatch,
                    state,
                    EventKind::ChargeFailed,
                )
            }
        }
        ChargeEvent::NoPaymentMethodBeforeCall => {
            // Nothing was sent, so the key need not advance; a retry once the customer has a
            // reference sends it.
            Transition {
                open_intent: OpenIntent::Keep,
                ..failed(
                    FailureReason::NoPaymentMethod,
                    state,
                    EventKind::ChargeFailed,
                )
            }
        }
        ChargeEvent::KeyReused => {
            // Never move to a new key on our own: an operator must look first.
            Transition {
                open_intent: OpenIntent::Keep,
                ..failed(
                    FailureReason::IdempotencyKeyReused,
                    state,
                    EventKind::ChargeFailed,
                )
            }
        }
        ChargeEvent::Called(
            AttemptOutcome::NetworkError
            | AttemptOutcome::Timeout
            | AttemptOutcome::ProtocolError
            | AttemptOutcome::Abandoned
            | AttemptOutcome::Processing,
        ) => {
            let streak = state.unknown_streak.saturating_add(1);
            Transition {
                status: InvoiceStatus::Pending,
                next_attempt_at: Some(now + policy.unknown_delay(streak)),
                failure_reason: None,
                // The key stays: only a resend under it can tell whether the provider charged.
                state: ChargeState {
                    unknown_streak: streak,
                    ..state
                },
                event: None,
                result: RunResult::RetryScheduled,
                open_intent: if event == ChargeEvent::Called(AttemptOutcome::Processing) {
                    OpenIntent::FromCallOrKeep
                } else {
                    OpenIntent::Keep
                },
            }
        }
        ChargeEvent::ReleasedUnsent => Transition {
            status: InvoiceStatus::Pending,
            next_attempt_at: due_at,
            failure_reason: None,
            state,
            event: None,
            result: RunResult::Released,
            open_intent: OpenIntent::Keep,
        },
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn state(key_seq: u32, declines: u32, unknown_streak: u32) -> ChargeState {
        ChargeState {
            key_seq,
            declines,
            unknown_streak,
        }
    }

    fn go(s: ChargeState, event: ChargeEvent) -> Transition {
        transition(s, None, event, &RetryPolicy::default(), now())
    }

    /// Every event from a spread of states: the outcome table of the design notes.
    #[test]
    fn every_event_from_every_kind_of_state() {
        let states = [
            state(0, 0, 0),
            state(2, 2, 0),
            state(4, 3, 2),
            state(4, 4, 0),
        ];
        let events = [
            ChargeEvent::Called(AttemptOutcome::Charged),
            ChargeEvent::Called(AttemptOutcome::Declined),
            ChargeEvent::Called(AttemptOutcome::CustomerNotFound),
            ChargeEvent::Called(AttemptOutcome::CurrencyMismatch),
            ChargeEvent::Called(AttemptOutcome::NetworkError),
            ChargeEvent::Called(AttemptOutcome::Timeout),
            ChargeEvent::Called(AttemptOutcome::ProtocolError),
            ChargeEvent::Called(AttemptOutcome::Abandoned),
            ChargeEvent::Called(AttemptOutcome::Processing),
            ChargeEvent::KeyReused,
            ChargeEvent::CurrencyMismatchBeforeCall,
            ChargeEvent::NoPaymentMethodBeforeCall,
            ChargeEvent::AmountNotChargeable,
            ChargeEvent::DeclinedActionRequired,
            ChargeEvent::ReleasedUnsent,
        ];
        for s in states {
            for e in events {
                let t = go(s, e);
                // Never left claimed: every event ends the claim.
                assert_ne!(t.status, InvoiceStatus::Charging, "{s:?} {e:?}");
                // PENDING always comes with a time, unless released unsent (still due).
                if t.status == InvoiceStatus::Pending && e != ChargeEvent::ReleasedUnsent {
                    assert!(
                        t.next_attempt_at.is_some_and(|at| at > now()),
                        "{s:?} {e:?}"
                    );
                }
                // FAILED always comes with a reason and an event.
                assert_eq!(
                    t.status == InvoiceStatus::Failed,
                    t.failure_reason.is_some()
                );
                if t.status == InvoiceStatus::Failed {
                    assert!(t.event.is_some());
                }
                // The key advances exactly on a definitive decision other than a charge.
                let advanced = t.state.key_seq == s.key_seq + 1;
                let definitive_no = matches!(
                    e,
                    ChargeEvent::Called(
                        AttemptOutcome::Declined
                            | AttemptOutcome::CustomerNotFound
                            | AttemptOutcome::CurrencyMismatch
                    ) | ChargeEvent::DeclinedActionRequired
                        | ChargeEvent::AmountNotChargeable
                );
                assert_eq!(advanced, definitive_no, "{s:?} {e:?}");
                if !advanced {
                    assert_eq!(t.state.key_seq, s.key_seq, "{s:?} {e:?}");
                }
            }
        }
    }

    #[test]
    fn charged_is_paid_and_announced() {
        let t = go(state(1, 1, 2), ChargeEvent::Called(AttemptOutcome::Charged));
        assert_eq!(t.status, InvoiceStatus::Paid);
        assert_eq!(t.result, RunResult::Paid);
        assert_eq!(t.event, Some(EventKind::Paid));
        assert_eq!(t.state.unknown_streak, 0);
    }

    #[test]
    fn declines_walk_the_dunning_schedule_then_fail() {
        let mut s = ChargeState::default();
        for (n, days) in [1, 3, 5, 7].into_iter().enumerate() {
            let t = go(s, ChargeEvent::Called(AttemptOutcome::Declined));
            assert_eq!(t.status, InvoiceStatus::Pending, "decline {}", n + 1);
            assert_eq!(t.next_attempt_at, Some(now() + TimeDelta::days(days)));
            assert_eq!(t.event, Some(EventKind::ChargeDeclined));
            assert_eq!(t.result, RunResult::Declined);
            s = t.state;
        }
        let t = go(s, ChargeEvent::Called(AttemptOutcome::Declined));
        assert_eq!(t.status, InvoiceStatus::Failed);
        assert_eq!(t.failure_reason, Some(FailureReason::RetriesExhausted));
        assert_eq!(t.event, Some(EventKind::RetriesExhausted));
        assert_eq!(t.state.key_seq, 5, "five attempts, five keys");
    }

    #[test]
    fn permanent_failures_fail_at_once_with_their_reason() {
        for (e, reason) in [
            (
                ChargeEvent::Called(AttemptOutcome::CustomerNotFound),
                FailureReason::CustomerNotFound,
            ),
            (
                ChargeEvent::Called(AttemptOutcome::CurrencyMismatch),
                FailureReason::CurrencyMismatch,
            ),
            (
                ChargeEvent::CurrencyMismatchBeforeCall,
                FailureReason::CurrencyMismatch,
            ),
            (ChargeEvent::KeyReused, FailureReason::IdempotencyKeyReused),
            (
                ChargeEvent::AmountNotChargeable,
                FailureReason::AmountNotChargeable,
            ),
        ] {
            let t = go(ChargeState::default(), e);
            assert_eq!(t.failure_reason, Some(reason), "{e:?}");
            assert_eq!(t.event, Some(EventKind::ChargeFailed));
            assert_eq!(t.result, RunResult::Failed);
        }
    }

    #[test]
    fn a_payment_waiting_on_the_customer_stays_open_and_a_decision_closes_it() {
        let open = |e| go(state(1, 0, 0), e).open_intent;
        assert_eq!(
            open(ChargeEvent::DeclinedActionRequired),
            OpenIntent::FromCall
        );
        assert_eq!(
            open(ChargeEvent::Called(AttemptOutcome::Processing)),
            OpenIntent::FromCallOrKeep
        );
        for decided in [
            ChargeEvent::Called(AttemptOutcome::Charged),
            ChargeEvent::Called(AttemptOutcome::Declined),
            ChargeEvent::Called(AttemptOutcome::CustomerNotFound),
            ChargeEvent::AmountNotChargeable,
        ] {
            assert_eq!(open(decided), OpenIntent::Clear, "{decided:?}");
        }
        for unsent_or_unknown in [
            ChargeEvent::Called(AttemptOutcome::Timeout),
            ChargeEvent::Called(AttemptOutcome::NetworkError),
            ChargeEvent::KeyReused,
            ChargeEvent::NoPaymentMethodBeforeCall,
            ChargeEvent::ReleasedUnsent,
        ] {
            assert_eq!(
                open(unsent_or_unknown),
                OpenIntent::Keep,
                "{unsent_or_unknown:?}"
            );
        }
        // The last decline of the schedule fails the invoice, yet its payment stays open.
        let exhausted = go(state(4, 4, 0), ChargeEvent::DeclinedActionRequired);
        assert_eq!(exhausted.status, InvoiceStatus::Failed);
        assert_eq!(exhausted.open_intent, OpenIntent::FromCall);
    }

    #[test]
    fn unknown_outcomes_keep_the_key_and_back_off_more_each_time() {
        let t1 = go(state(3, 1, 0), ChargeEvent::Called(AttemptOutcome::Timeout));
        assert_eq!(t1.status, InvoiceStatus::Pending);
        assert_eq!(t1.state, state(3, 1, 1));
        assert_eq!(t1.next_attempt_at, Some(now() + TimeDelta::seconds(30)));
        assert_eq!(t1.result, RunResult::RetryScheduled);
        let t2 = go(t1.state, ChargeEvent::Called(AttemptOutcome::NetworkError));
        assert_eq!(t2.state, state(3, 1, 2));
        assert_eq!(t2.next_attempt_at, Some(now() + TimeDelta::seconds(60)));
    }

    #[test]
    fn released_unsent_changes_nothing_but_the_claim() {
        let due = Some(now() - TimeDelta::days(1));
        let t = transition(
            state(2, 2, 1),
            due,
            ChargeEvent::ReleasedUnsent,
            &RetryPolicy::default(),
            now(),
        );
        assert_eq!(t.status, InvoiceStatus::Pending);
        assert_eq!(t.state, state(2, 2, 1));
        assert_eq!(t.next_attempt_at, due);
        assert_eq!(t.result, RunResult::Released);
    }
}
