//! Charging one claimed invoice: the call, resends of an unknown outcome under the same key,
//! and the journal entry that ends the claim.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antaeus_models::{
    AttemptOutcome, EventData, EventKind, IdempotencyKey, Invoice, InvoiceEvent, Notification,
    RunId,
};
use chrono::{DateTime, Utc};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, watch};

use super::charge_metrics::{ChargeMetrics, ResponseClass};
use super::circuit_breaker::ProbeGuard;
use super::journal_writer::{JournalWriter, WriteAck};
use super::random::Randomness;
use super::state_machine::{ChargeEvent, Transition, transition};
use super::{BillingConfig, CircuitBreaker, Permit};
use crate::store::{AttemptCompletion, AttemptEnd, ClaimedInvoice, JournalEntry};
use crate::{ChargeDecision, ChargeRequest, Clock, PaymentProvider, ProviderError, Shutdown};

/// What every charging task of a run shares.
pub(crate) struct ChargeContext {
    pub provider: Arc<dyn PaymentProvider>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Randomness>,
    pub breaker: Arc<CircuitBreaker>,
    pub writer: JournalWriter,
    pub config: BillingConfig,
    pub run: RunId,
    pub shutdown: Shutdown,
    /// Call slots: `concurrency` permits, one held for the duration of each provider call
    /// (not while a task waits to resend or to hand its outcome over). Closed when the run
    /// stops early for any reason: no new call is made.
    pub slots: Arc<Semaphore>,
    /// Signalled whenever a call slot is given back, so the driver can fill it at once.
    pub slot_freed: Notify,
    /// The charging metrics' handles.
    pub metrics: ChargeMetrics,
    /// Set (to `true`) when calls stop for good, so that a task waiting for its turn at the
    /// provider stops waiting.
    pub calls_stopped: watch::Sender<bool>,
    /// Why the run must stop at once, if a call said so (the provider refused our credentials).
    pub fatal: Mutex<Option<String>>,
    /// Calls the provider answered (anything but a lost connection or a timeout).
    pub answered: AtomicU64,
    /// Calls that got no answer (a lost connection, a timeout).
    pub unanswered: AtomicU64,
}

impl ChargeContext {
    /// Whether calls should stop: shutdown, or the run is aborting.
    fn stopping(&self) -> bool {
        self.shutdown.is_requested() || self.slots.is_closed()
    }

    /// Stops every call not made yet: tasks waiting for a slot or a turn release their claims.
    pub(crate) fn stop_calls(&self) {
        self.slots.close();
        self.calls_stopped.send_replace(true);
    }

    /// Why the run must stop at once, if a call found a reason.
    pub(crate) fn fatal(&self) -> Option<String> {
        self.fatal.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits for this call's turn at the provider; `false` when calls stopped meanwhile.
    async fn turn(&self) -> bool {
        let mut stopped = self.calls_stopped.subscribe();
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            () = self.provider.wait_turn() => !self.stopping(),
            _ = stopped.wait_for(|s| *s) => false,
            () = shutdown.requested() => false,
        }
    }

    /// Gives a call slot back and tells the driver.
    fn free_slot(&self, slot: Option<OwnedSemaphorePermit>) {
        if slot.is_some() {
            drop(slot);
            self.slot_freed.notify_one();
        }
    }
}

/// One provider call's result, as the journal and the state machine see it.
struct CallResult {
    outcome: AttemptOutcome,
    message: Option<String>,
    event: ChargeEvent,
    /// Worth resending under the same key within the run.
    resend: bool,
    /// The answer says the provider is failing (counts towards the circuit breaker).
    provider_failure: bool,
    /// The provider asked for this wait before the next request.
    retry_after: Option<Duration>,
    /// The provider's reason for a decline.
    decline_code: Option<String>,
    /// The provider's reference for the charge.
    provider_ref: Option<String>,
    /// The provider refused our credentials: the run must stop, and why.
    refused: Option<String>,
    /// The provider answered (this was not a lost connection or a timeout).
    answered: bool,
}

/// The longest `Retry-After` a resend within the run waits for; a longer wait leaves the
/// outcome unknown for a later run.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

fn classify(
    result: Result<Result<ChargeDecision, ProviderError>, tokio::time::error::Elapsed>,
) -> CallResult {
    let decided = |outcome, message: Option<String>| CallResult {
        outcome,
        message,
        event: ChargeEvent::Called(outcome),
        resend: false,
        provider_failure: false,
        retry_after: None,
        decline_code: None,
        provider_ref: None,
        refused: None,
        answered: true,
    };
    let err = match result {
        Ok(Ok(ChargeDecision::Charged { charge_id })) => {
            return CallResult {
                provider_ref: Some(charge_id.clone()),
                ..decided(AttemptOutcome::Charged, Some(charge_id))
            };
        }
        Ok(Ok(ChargeDecision::Declined {
            code,
            action_required,
            provider_ref,
        })) => {
            return CallResult {
                event: if action_required {
                    ChargeEvent::DeclinedActionRequired
                } else {
                    ChargeEvent::Called(AttemptOutcome::Declined)
                },
                message: code.clone(),
                decline_code: code,
                provider_ref,
                ..decided(AttemptOutcome::Declined, None)
            };
        }
        Ok(Ok(ChargeDecision::AmountNotChargeable { code })) => {
            // Recorded as a decline with the provider's code (definitive: nothing was made),
            // and the invoice fails: no later attempt can charge this amount.
            return CallResult {
                event: ChargeEvent::AmountNotChargeable,
                message: Some(format!(
                    "the provider refuses to charge this amount ({code})"
                )),
                decline_code: Some(code),
                ..decided(AttemptOutcome::Declined, None)
            };
        }
        Ok(Ok(ChargeDecision::CustomerNotFound)) => {
            return decided(AttemptOutcome::CustomerNotFound, None);
        }
        Ok(Ok(ChargeDecision::CurrencyMismatch)) => {
            return decided(AttemptOutcome::CurrencyMismatch, None);
        }
        Ok(Err(err)) => err,
        Err(_) => {
            return CallResult {
                resend: true,
                provider_failure: true,
                answered: false,
                ..decided(
                    AttemptOutcome::Timeout,
                    Some("no answer within the call timeout".into()),
                )
            };
        }
    };
    let (outcome, event, resend) = match &err {
        ProviderError::Network(_)
        | ProviderError::Unavailable { .. }
        | ProviderError::InProgress => (AttemptOutcome::NetworkError, None, true),
        ProviderError::Timeout => (AttemptOutcome::Timeout, None, true),
        // Still being decided: asked about again by a later run, after a backoff.
        ProviderError::Processing { .. } => (AttemptOutcome::Processing, None, false),
        ProviderError::Protocol(_) | ProviderError::Unauthorized(_) => {
            (AttemptOutcome::ProtocolError, None, false)
        }
        ProviderError::IdempotencyKeyReused => (
            AttemptOutcome::ProtocolError,
            Some(ChargeEvent::KeyReused),
            false,
        ),
    };
    CallResult {
        outcome,
        message: Some(err.to_string()),
        event: event.unwrap_or(ChargeEvent::Called(outcome)),
        resend,
        provider_failure: err.is_provider_failure(),
        retry_after: err.retry_after(),
        decline_code: None,
        answered: !matches!(err, ProviderError::Network(_) | ProviderError::Timeout),
        refused: match &err {
            ProviderError::Unauthorized(why) => Some(why.clone()),
            _ => None,
        },
        provider_ref: match err {
            ProviderError::Processing { provider_ref } => provider_ref,
            _ => None,
        },
    }
}

/// Charges `claimed` to the end of its claim: PAID, FAILED, or PENDING again. `slot` is the
/// call slot the driver reserved for the first call (`None`: take one when needed).
///
/// Not an `async fn`: its future would hold `claimed` twice (as its argument and as its
/// local), and a run holds up to twice its call slots of these (see `task_size_tests`).
#[expect(
    clippy::manual_async_fn,
    reason = "an async fn would hold `claimed` twice"
)]
pub(crate) fn charge(
    ctx: Arc<ChargeContext>,
    claimed: ClaimedInvoice,
    slot: Option<OwnedSemaphorePermit>,
) -> impl Future<Output = ()> + Send {
    async move {
        let started = tokio::time::Instant::now();
        charge_to_the_end(&ctx, &claimed, slot).await;
        ctx.metrics
            .invoice_seconds
            .record(started.elapsed().as_secs_f64());
    }
}

async fn charge_to_the_end(
    ctx: &ChargeContext,
    claimed: &ClaimedInvoice,
    mut slot: Option<OwnedSemaphorePermit>,
) {
    let mut step = ClaimStep {
        fence: claimed.fence(),
        attempts: claimed.invoice.attempts,
    };
    let Some(planned) = claimed.attempt.clone() else {
        ctx.free_slot(slot);
        // Nothing may be sent: the claim says why.
        let event = if claimed.invoice.amount.currency() != claimed.customer_currency {
            ChargeEvent::CurrencyMismatchBeforeCall
        } else {
            ChargeEvent::NoPaymentMethodBeforeCall
        };
        finish(ctx, claimed, step, AttemptEnd::None, event).await;
        return;
    };
    let mut request = ChargeRequest {
        invoice: claimed.invoice.clone(),
        customer: claimed.customer.clone(),
        key: planned.key.clone(),
        namespace: claimed.namespace.clone(),
        key_first_sent_at: claimed.key_first_sent_at,
        provider_ref: claimed.provider_ref.clone(),
        open_intent: claimed.open_intent.clone(),
    };
    // What the calls of this claim have told so far: nothing yet, unless the claim was taken
    // over from an instance whose call never reported (its outcome is unknown).
    let mut known = if claimed.taken_over_from.is_some() {
        ChargeEvent::Called(AttemptOutcome::Abandoned)
    } else {
        ChargeEvent::ReleasedUnsent
    };
    let mut call = 0_u32;
    loop {
        if slot.is_none() && !ctx.stopping() {
            // Resends wait for a free slot like everyone else. A run that stops early closes
            // the semaphore: the wait ends without a slot and the claim is released unsent.
            slot = ctx.slots.clone().acquire_owned().await.ok();
        }
        // The wait for a turn at the provider (its rate limit) comes before the call's timeout
        // starts, so that a slow pace never times a call out before it is sent. The wait is
        // boxed: it would be the task's largest state, held by every task for its whole life.
        let permit = if ctx.stopping() || slot.is_none() || !Box::pin(ctx.turn()).await {
            Permit::Denied
        } else {
            ctx.breaker.permit()
        };
        if permit == Permit::Denied {
            ctx.free_slot(slot.take());
            // Nothing was sent for this attempt: remove its intent. What the claim's earlier
            // calls told stands: an unknown outcome stays unknown (same key, after a backoff).
            finish(
                ctx,
                claimed,
                ClaimStep {
                    attempts: step.attempts.saturating_sub(1),
                    ..step
                },
                AttemptEnd::Unsent(step.attempts),
                known,
            )
            .await;
            return;
        }
        call += 1;
        let probe = ProbeGuard::new(&ctx.breaker, permit);
        let started = tokio::time::Instant::now();
        let sent_at = ctx.clock.now();
        let calling = ctx.breaker.calling();
        let answer =
            tokio::time::timeout(ctx.config.call_timeout, ctx.provider.charge(&request)).await;
        ctx.metrics.count_response(ResponseClass::of(&answer));
        let result = classify(answer);
        drop(calling);
        if let Some(why) = &result.refused {
            // Nothing was processed, and nothing will be until someone fixes the credentials.
            // Calls stop before this call's slot is freed, so that no call waiting for a slot
            // starts after this answer.
            ctx.fatal
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get_or_insert_with(|| why.clone());
            ctx.stop_calls();
        }
        // A resend is a call under a key sent before.
        request.key_first_sent_at.get_or_insert(sent_at);
        if result.provider_ref.is_some() {
            request.provider_ref.clone_from(&result.provider_ref);
        }
        ctx.free_slot(slot.take());
        ctx.metrics
            .call_seconds
            .record(started.elapsed().as_secs_f64());
        ctx.metrics.count(result.outcome);
        probe.record(result.provider_failure);
        let tally = if result.answered {
            &ctx.answered
        } else {
            &ctx.unanswered
        };
        tally.fetch_add(1, Ordering::Relaxed);
        if result.outcome == AttemptOutcome::ProtocolError {
            log::error!(
                "invoice {} attempt {} key {}: {}",
                claimed.invoice.id,
                step.attempts,
                planned.key,
                result.message.as_deref().unwrap_or("protocol error")
            );
        }
        let completion = AttemptCompletion {
            number: step.attempts,
            outcome: result.outcome,
            message: result.message,
            decline_code: result.decline_code,
            provider_ref: result.provider_ref,
            finished_at: ctx.clock.now(),
        };
        if result.refused.is_some() {
            // The run stops at once (calls stopped above), and the invoice is left as it was
            // before this call.
            finish(ctx, claimed, step, AttemptEnd::Completed(completion), known).await;
            return;
        }
        let may_resend = result.resend && call < ctx.config.resend.tries && !ctx.stopping();
        let asked = result.retry_after.unwrap_or_default();
        // A provider that wants a longer pause than a run waits for leaves the outcome unknown
        // (same key) for a later run, after its backoff.
        if !may_resend || asked > MAX_RETRY_AFTER {
            finish(
                ctx,
                claimed,
                step,
                AttemptEnd::Completed(completion),
                result.event,
            )
            .await;
            return;
        }
        known = result.event;
        let backoff = ctx.config.resend.delay(call, ctx.random.unit());
        tokio::time::sleep(backoff.max(asked)).await;
        if ctx.stopping() || ctx.breaker.state() != super::BreakerState::Closed {
            // Stop resending; the outcome stays unknown and the key stays for the next run.
            finish(
                ctx,
                claimed,
                step,
                AttemptEnd::Completed(completion),
                result.event,
            )
            .await;
            return;
        }
        match resend(ctx, claimed, step.fence, completion, &planned.key).await {
            WriteAck::Applied => {
                step = ClaimStep {
                    fence: step.fence + 1,
                    attempts: step.attempts + 1,
                };
            }
            WriteAck::FencedOut => return,
            WriteAck::Failed => {
                // The intent of the resend could not be stored, so it must not be sent. The
                // claim stays with this run's instance until it is taken over.
                return;
            }
        }
    }
}

/// Where a claim stands: its fence, and the invoice's attempt count (the number of the attempt
/// under way).
#[derive(Debug, Clone, Copy)]
struct ClaimStep {
    fence: u32,
    attempts: u32,
}

/// Records the intent of a resend under the same key (the returned future waits until it is
/// stored). Not an `async fn`, so that the charging task holds the entry once.
fn resend<'a>(
    ctx: &'a ChargeContext,
    claimed: &ClaimedInvoice,
    fence: u32,
    completed: AttemptCompletion,
    key: &IdempotencyKey,
) -> impl Future<Output = WriteAck> + Send + 'a {
    ctx.writer.write_and_wait(JournalEntry::Resend {
        invoice: claimed.invoice.id,
        run: ctx.run,
        fence,
        completed,
        key: key.clone(),
        started_at: ctx.clock.now(),
    })
}

/// Ends the claim at `step` (the attempt count as the claim leaves it): the transition from
/// the state machine, its event, and the attempt's end. The entry is built at once and the
/// returned future only queues it (as [`resend`], not an `async fn`).
fn finish<'a>(
    ctx: &'a ChargeContext,
    claimed: &ClaimedInvoice,
    step: ClaimStep,
    attempt: AttemptEnd,
    event: ChargeEvent,
) -> impl Future<Output = ()> + Send + 'a {
    let now = ctx.clock.now();
    let transition = transition(
        claimed.state,
        claimed.invoice.next_attempt_at,
        event,
        &ctx.config.retry,
        now,
    );
    let notification =
        transition_event(claimed, step.attempts, &transition, &attempt, ctx.run, now);
    ctx.writer.write(JournalEntry::Finish {
        invoice: claimed.invoice.id,
        run: ctx.run,
        fence: step.fence,
        attempts: step.attempts,
        amount: claimed.invoice.amount,
        at: now,
        attempt,
        transition,
        notification,
    })
}

/// The event a transition announces (`None` if it announces none), with the invoice as the
/// transition leaves it and the call that caused it (its key; the provider's charge id for a
/// payment): what the journal writes to the outbox with the claim's end.
pub fn transition_event(
    claimed: &ClaimedInvoice,
    attempts: u32,
    transition: &Transition,
    attempt: &AttemptEnd,
    run: RunId,
    now: DateTime<Utc>,
) -> Option<Box<Notification>> {
    let kind = transition.event?;
    let invoice = &claimed.invoice;
    let after = Invoice {
        status: transition.status,
        attempts,
        next_attempt_at: transition.next_attempt_at,
        failure_reason: transition.failure_reason,
        ..invoice.clone()
    };
    let completed = match attempt {
        AttemptEnd::Completed(c) => Some(c),
        _ => None,
    };
    let mut data = InvoiceEvent::of(&after, completed.map(|c| c.outcome), Some(run.get()));
    if let Some(call) = completed {
        data.idempotency_key = claimed.attempt.as_ref().map(|a| a.key.to_string());
        data.decline_code.clone_from(&call.decline_code);
        if kind == EventKind::PaymentActionRequired {
            // The payment the customer is asked to complete.
            data.payment_intent_id.clone_from(&call.provider_ref);
        } else {
            data.charge_id.clone_from(&call.provider_ref);
        }
    }
    Some(Box::new(Notification {
        id: format!(
            "evt_{}_{}_{}_{}",
            invoice.id,
            attempts,
            kind.as_str(),
            now.timestamp_micros()
        ),
        kind,
        created_at: now,
        data: EventData {
            invoice: Some(data),
            run: None,
        },
    }))
}
