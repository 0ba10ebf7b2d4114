//! The billing service against mocked storage and provider: every outcome and error path.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use antaeus_models::{
    AttemptOutcome, BillingRun, Currency, CustomerId, EventKind, FailureReason, IdempotencyKey,
    InstanceId, Invoice, InvoiceId, InvoiceStatus, Money, RunCounts, RunId, RunScope, RunStatus,
    RunTrigger,
};
use chrono::{DateTime, TimeDelta, Utc};

use super::*;
use crate::payment_provider::MockPaymentProvider;
use crate::store::{
    AttemptEnd, Backlog, ClaimedInvoice, JournalEntry, MockBillingStore, MockInstanceStore,
    MockRunStore, PlannedAttempt, RecordReport, StoreError,
};
use crate::{ChargeDecision, ChargeRequest, ManualClock, PaymentProvider, ProviderError, Shutdown};

type Answer = Result<ChargeDecision, ProviderError>;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

fn id(n: i64) -> InvoiceId {
    InvoiceId::new(n).unwrap()
}

/// A claimed invoice in EUR; `customer` is the customer's currency.
fn claimed(n: i64, customer: Currency, state: ChargeState) -> ClaimedInvoice {
    let mut invoice = Invoice::new(
        id(n),
        CustomerId::new(n).unwrap(),
        Money::from_minor(10_000, Currency::EUR).unwrap(),
        InvoiceStatus::Charging,
    );
    let sendable = customer == Currency::EUR;
    invoice.attempts = u32::from(sendable);
    ClaimedInvoice {
        attempt: sendable.then(|| PlannedAttempt {
            number: 1,
            key: charge_key("", id(n), state.key_seq),
        }),
        invoice,
        customer_currency: customer,
        state,
        taken_over_from: None,
        fence: 1,
        customer: Default::default(),
        namespace: None,
        key_first_sent_at: None,
        provider_ref: None,
        open_intent: None,
    }
}

fn declined() -> Answer {
    Ok(ChargeDecision::Declined {
        code: None,
        action_required: false,
        provider_ref: None,
    })
}

fn charged() -> Answer {
    Ok(ChargeDecision::Charged {
        charge_id: "ch_1".into(),
    })
}

/// What a test arranges and what it observes.
#[derive(Default)]
struct World {
    claims: Mutex<VecDeque<Result<Vec<ClaimedInvoice>, StoreError>>>,
    answers: Mutex<HashMap<InvoiceId, VecDeque<Answer>>>,
    calls: Mutex<Vec<(InvoiceId, IdempotencyKey)>>,
    journal: Mutex<Vec<JournalEntry>>,
    /// Invoices whose resend is fenced out.
    lost: Mutex<Vec<InvoiceId>>,
    /// Claims held by other instances, reported by successive backlog reads.
    held_elsewhere: Mutex<VecDeque<u64>>,
    /// Whether something is due, reported by successive backlog reads (then: nothing).
    due_reads: Mutex<VecDeque<bool>>,
    /// Claims of the asking run, reported by every backlog read.
    held_here: Mutex<u64>,
    record_failures: Mutex<u32>,
    /// Offered by every claim once the scripted claims are used up (due invoices that keep
    /// coming back, as released ones do).
    endless: Mutex<Vec<ClaimedInvoice>>,
    /// Whether an existing run is adoptable (its instance died).
    abandoned: Mutex<bool>,
    /// Pulled when the first resend is recorded (a stop that lands between a resend's intent
    /// and its call).
    stop_on_resend: Mutex<Option<crate::ShutdownTrigger>>,
    /// Runs ended in storage (`finish_run` calls).
    finished_runs: Mutex<usize>,
    /// Instances retired.
    retired: Mutex<usize>,
}

impl World {
    fn claims(self: &Arc<Self>, batches: Vec<Vec<ClaimedInvoice>>) -> Arc<Self> {
        self.claims
            .lock()
            .unwrap()
            .extend(batches.into_iter().map(Ok));
        self.clone()
    }

    fn answers(self: &Arc<Self>, invoice: i64, answers: Vec<Answer>) -> Arc<Self> {
        self.answers
            .lock()
            .unwrap()
            .insert(id(invoice), answers.into());
        self.clone()
    }

    fn calls(&self) -> Vec<(InvoiceId, IdempotencyKey)> {
        self.calls.lock().unwrap().clone()
    }

    fn journal(&self) -> Vec<JournalEntry> {
        self.journal.lock().unwrap().clone()
    }

    /// The entry that ended `invoice`'s claim.
    fn finish_of(&self, invoice: i64) -> (AttemptEnd, Transition, Option<EventKind>) {
        self.journal()
            .into_iter()
            .find_map(|e| match e {
                JournalEntry::Finish {
                    invoice: i,
                    attempt,
                    transition,
                    notification,
                    ..
                } if i == id(invoice) => Some((attempt, transition, notification.map(|n| n.kind))),
                _ => None,
            })
            .unwrap_or_else(|| panic!("invoice {invoice} was never finished: {:?}", self.journal()))
    }
}

fn config() -> BillingConfig {
    BillingConfig {
        concurrency: 8,
        drain_poll: Duration::from_millis(10),
        journal: JournalConfig {
            give_up_after: Duration::from_millis(300),
            ..JournalConfig::default()
        },
        breaker: BreakerConfig {
            window: 10,
            min_calls: 4,
            failure_ratio: 0.5,
            cool_down: Duration::from_secs(30),
        },
        max_outage: Duration::from_secs(120),
        ..BillingConfig::default()
    }
}

fn run_of(status: RunStatus, reason: Option<String>) -> BillingRun {
    BillingRun {
        id: RunId::new(1).unwrap(),
        idempotency_key: IdempotencyKey::parse("k").unwrap(),
        trigger: RunTrigger::Cli,
        status,
        instance_id: "test-00000001".into(),
        started_at: t0(),
        finished_at: None,
        abort_reason: reason,
        counts: RunCounts::default(),
        request_fingerprint: Some("scope=all".into()),
        scope: RunScope::All,
    }
}

fn request() -> RunRequest {
    RunRequest::new(
        IdempotencyKey::parse("k").unwrap(),
        RunTrigger::Cli,
        RunScope::All,
    )
}

fn service(world: &Arc<World>, config: BillingConfig, existing: bool) -> BillingService {
    let mut billing = MockBillingStore::new();
    let w = world.clone();
    billing.expect_claim().returning(move |request| {
        let scripted = w.claims.lock().unwrap().pop_front();
        scripted.unwrap_or_else(|| {
            let endless = w.endless.lock().unwrap();
            Ok(endless
                .iter()
                .take(request.limit as usize)
                .cloned()
                .collect())
        })
    });
    let w = world.clone();
    billing.expect_record().returning(move |_, batch| {
        let mut failures = w.record_failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return Err(StoreError::Unavailable("database is locked".into()));
        }
        w.journal.lock().unwrap().extend(batch.iter().cloned());
        if batch
            .iter()
            .any(|e| matches!(e, JournalEntry::Resend { .. }))
            && let Some(stop) = w.stop_on_resend.lock().unwrap().take()
        {
            stop.trigger();
        }
        let lost = w.lost.lock().unwrap();
        Ok(RecordReport {
            fenced_out: batch
                .iter()
                .filter(|e| matches!(e, JournalEntry::Resend { .. }) && lost.contains(&e.invoice()))
                .map(JournalEntry::invoice)
                .collect(),
        })
    });
    let w = world.clone();
    billing.expect_backlog().returning(move |_, _, _| {
        let held = w.held_elsewhere.lock().unwrap().pop_front().unwrap_or(0);
        Ok(Backlog {
            due: w.due_reads.lock().unwrap().pop_front().unwrap_or(false),
            claimed_elsewhere: held,
            claimed_here: *w.held_here.lock().unwrap(),
        })
    });
    let mut runs = MockRunStore::new();
    runs.expect_create_run()
        .returning(move |_| Ok((run_of(RunStatus::Running, None), !existing)));
    let w = world.clone();
    runs.expect_adopt_run().returning(move |_, instance, _| {
        Ok((*w.abandoned.lock().unwrap()).then(|| BillingRun {
            instance_id: instance.to_string(),
            ..run_of(RunStatus::Running, None)
        }))
    });
    let w = world.clone();
    runs.expect_fetch_run().returning(|_| Ok(None));
    runs.expect_finish_run().returning(move |_, end| {
        *w.finished_runs.lock().unwrap() += 1;
        Ok(BillingRun {
            finished_at: Some(end.now),
            ..run_of(end.status, end.abort_reason.clone())
        })
    });
    let mut instances = MockInstanceStore::new();
    instances.expect_heartbeat().returning(|_| Ok(()));
    let w = world.clone();
    instances.expect_retire().returning(move |_| {
        *w.retired.lock().unwrap() += 1;
        Ok(())
    });
    let mut provider = MockPaymentProvider::new();
    provider.expect_wait_turn().returning(|| ());
    provider
        .expect_describe()
        .returning(|| "the mock provider".to_owned());
    let w = world.clone();
    provider.expect_charge().returning(move |request| {
        w.calls
            .lock()
            .unwrap()
            .push((request.invoice.id, request.key.clone()));
        w.answers
            .lock()
            .unwrap()
            .get_mut(&request.invoice.id)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(charged)
    });
    let deps = BillingDeps {
        billing: Arc::new(billing),
        runs: Arc::new(runs),
        instances: Arc::new(instances),
        provider: Arc::new(provider),
        clock: Arc::new(ManualClock::new(t0())),
        random: Arc::new(SeededRandom::new(1)),
    };
    BillingService::new(deps, config, "test")
}

async fn bill(world: &Arc<World>) -> BillingRun {
    bill_with(world, config(), Shutdown::never()).await
}

async fn bill_with(world: &Arc<World>, config: BillingConfig, shutdown: Shutdown) -> BillingRun {
    service(world, config, false)
        .bill(&request(), shutdown)
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn each_definitive_answer_ends_its_claim_as_the_state_machine_says() {
    let s = ChargeState::default();
    let last_dunning = ChargeState {
        key_seq: 4,
        declines: 4,
        unknown_streak: 0,
    };
    let world = Arc::new(World::default())
        .claims(vec![vec![
            claimed(1, Currency::EUR, s),
            claimed(2, Currency::EUR, s),
            claimed(3, Currency::EUR, s),
            claimed(4, Currency::EUR, s),
            claimed(5, Currency::EUR, last_dunning),
        ]])
        .answers(2, vec![declined()])
        .answers(3, vec![Ok(ChargeDecision::CustomerNotFound)])
        .answers(4, vec![Ok(ChargeDecision::CurrencyMismatch)])
        .answers(5, vec![declined()]);
    let run = bill(&world).await;
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(world.calls().len(), 5, "one call each");

    let (attempt, t, event) = world.finish_of(1);
    assert!(
        matches!(attempt, AttemptEnd::Completed(c) if c.outcome == AttemptOutcome::Charged && c.message.as_deref() == Some("ch_1"))
    );
    assert_eq!(
        (t.status, event),
        (InvoiceStatus::Paid, Some(EventKind::Paid))
    );
    let paid = world
        .journal()
        .into_iter()
        .find_map(|e| match e {
            JournalEntry::Finish {
                invoice,
                notification: Some(n),
                ..
            } if invoice == id(1) => Some(n),
            _ => None,
        })
        .unwrap();
    let data = paid.data.invoice.unwrap();
    assert_eq!(
        data.charge_id.as_deref(),
        Some("ch_1"),
        "invoice.paid names the charge"
    );
    assert_eq!(data.idempotency_key.as_deref(), Some("antaeus-1-0"));
    assert_eq!(data.amount.to_string(), "100.00");

    let (_, t, event) = world.finish_of(2);
    assert_eq!(t.status, InvoiceStatus::Pending);
    assert_eq!(t.next_attempt_at, Some(t0() + TimeDelta::days(1)));
    assert_eq!(t.state.key_seq, 1);
    assert_eq!(event, Some(EventKind::ChargeDeclined));

    let (_, t, event) = world.finish_of(3);
    assert_eq!(t.failure_reason, Some(FailureReason::CustomerNotFound));
    assert_eq!(event, Some(EventKind::ChargeFailed));
    let (_, t, _) = world.finish_of(4);
    assert_eq!(t.failure_reason, Some(FailureReason::CurrencyMismatch));

    let (_, t, event) = world.finish_of(5);
    assert_eq!(t.failure_reason, Some(FailureReason::RetriesExhausted));
    assert_eq!(event, Some(EventKind::RetriesExhausted));
}

#[tokio::test(start_paused = true)]
async fn a_network_error_is_resent_under_the_same_key_after_its_intent_is_stored() {
    let world = Arc::new(World::default())
        .claims(vec![vec![claimed(
            7,
            Currency::EUR,
            ChargeState::default(),
        )]])
        .answers(
            7,
            vec![
                Err(ProviderError::Network("reset".into())),
                Err(ProviderError::Timeout),
                charged(),
            ],
        );
    bill(&world).await;
    let calls = world.calls();
    assert_eq!(calls.len(), 3);
    assert!(
        calls.iter().all(|(_, key)| key.as_str() == "antaeus-7-0"),
        "{calls:?}"
    );
    let journal = world.journal();
    let resends: Vec<_> = journal
        .iter()
        .filter_map(|e| match e {
            JournalEntry::Resend {
                fence,
                completed,
                key,
                ..
            } => Some((*fence, completed.outcome, key.as_str().to_owned())),
            _ => None,
        })
        .collect();
    assert_eq!(
        resends,
        [
            (1, AttemptOutcome::NetworkError, "antaeus-7-0".to_owned()),
            (2, AttemptOutcome::Timeout, "antaeus-7-0".to_owned())
        ]
    );
    let (attempt, t, _) = world.finish_of(7);
    assert!(matches!(attempt, AttemptEnd::Completed(c) if c.number == 3));
    assert_eq!(t.status, InvoiceStatus::Paid);
    // Resend intents are journaled before the finish.
    assert!(matches!(journal.last(), Some(JournalEntry::Finish { .. })));
}

#[tokio::test(start_paused = true)]
async fn an_outcome_still_unknown_after_every_try_keeps_the_key_for_a_later_run() {
    let world = Arc::new(World::default())
        .claims(vec![vec![claimed(
            8,
            Currency::EUR,
            ChargeState {
                key_seq: 2,
                declines: 2,
                unknown_streak: 1,
            },
        )]])
        .answers(8, vec![Err(ProviderError::Timeout); 3]);
    let mut cfg = config();
    cfg.breaker.min_calls = 50;
    let run = bill_with(&world, cfg, Shutdown::never()).await;
    // Not one call was answered: the run must not pass for a success.
    assert_eq!(run.status, RunStatus::Aborted);
    assert!(
        run.abort_reason
            .as_deref()
            .is_some_and(|r| r.contains("the mock provider never answered: 3 calls")),
        "{run:?}"
    );
    assert_eq!(world.calls().len(), 3, "the default tries");
    let (attempt, t, event) = world.finish_of(8);
    assert!(
        matches!(attempt, AttemptEnd::Completed(c) if c.outcome == AttemptOutcome::Timeout && c.number == 3)
    );
    assert_eq!(t.status, InvoiceStatus::Pending);
    assert_eq!(t.state.key_seq, 2, "same key next time");
    assert_eq!(t.state.unknown_streak, 2);
    assert_eq!(t.next_attempt_at, Some(t0() + TimeDelta::seconds(60)));
    assert_eq!(event, None);
}

#[tokio::test(start_paused = true)]
async fn protocol_errors_are_not_resent_and_a_reused_key_fails_the_invoice() {
    let world = Arc::new(World::default())
        .claims(vec![vec![
            claimed(1, Currency::EUR, ChargeState::default()),
            claimed(2, Currency::EUR, ChargeState::default()),
        ]])
        .answers(1, vec![Err(ProviderError::Protocol("HTTP 400".into()))])
        .answers(2, vec![Err(ProviderError::IdempotencyKeyReused)]);
    bill(&world).await;
    assert_eq!(world.calls().len(), 2);
    let (attempt, t, _) = world.finish_of(1);
    assert!(
        matches!(attempt, AttemptEnd::Completed(c) if c.outcome == AttemptOutcome::ProtocolError)
    );
    assert_eq!(t.status, InvoiceStatus::Pending);
    assert_eq!(t.state.key_seq, 0);
    let (attempt, t, event) = world.finish_of(2);
    assert!(
        matches!(attempt, AttemptEnd::Completed(c) if c.outcome == AttemptOutcome::ProtocolError)
    );
    assert_eq!(t.failure_reason, Some(FailureReason::IdempotencyKeyReused));
    assert_eq!(t.state.key_seq, 0, "never a new key on our own");
    assert_eq!(event, Some(EventKind::ChargeFailed));
}

#[tokio::test(start_paused = true)]
async fn a_currency_mismatch_is_failed_without_calling_the_provider() {
    let world = Arc::new(World::default()).claims(vec![vec![claimed(
        3,
        Currency::DKK,
        ChargeState::default(),
    )]]);
    bill(&world).await;
    assert!(world.calls().is_empty());
    let (attempt, t, event) = world.finish_of(3);
    assert_eq!(attempt, AttemptEnd::None);
    assert_eq!(t.failure_reason, Some(FailureReason::CurrencyMismatch));
    assert_eq!(event, Some(EventKind::ChargeFailed));
}

#[tokio::test(start_paused = true)]
async fn a_lost_claim_stops_resending() {
    let world = Arc::new(World::default())
        .claims(vec![vec![claimed(
            4,
            Currency::EUR,
            ChargeState::default(),
        )]])
        .answers(
            4,
            vec![Err(ProviderError::Network("reset".into())), charged()],
        );
    world.lost.lock().unwrap().push(id(4));
    bill(&world).await;
    assert_eq!(
        world.calls().len(),
        1,
        "no call after the resend was refused"
    );
    assert!(
        !world
            .journal()
            .iter()
            .any(|e| matches!(e, JournalEntry::Finish { .. }))
    );
}

#[tokio::test(start_paused = true)]
async fn a_provider_outage_opens_the_breaker_releases_unsent_claims_and_aborts_the_run() {
    let world = Arc::new(World::default());
    *world.endless.lock().unwrap() = (1..=8)
        .map(|n| claimed(n, Currency::EUR, ChargeState::default()))
        .collect();
    for n in 1..=8 {
        world.answers(n, vec![Err(ProviderError::Network("down".into())); 1_000]);
    }
    let run = bill(&world).await;
    assert_eq!(run.status, RunStatus::Aborted);
    assert!(run.abort_reason.unwrap().contains("payment provider"));
    // Four calls opened the breaker; after that only one probe per cool-down went out
    // (120 s of outage, 30 s cool-down), instead of every invoice burning its retries.
    let calls = world.calls();
    assert!(
        calls.len() <= 4 + 4 + 5,
        "{} calls during the outage",
        calls.len()
    );
    let journal = world.journal();
    let unsent = journal
        .iter()
        .filter(|e| {
            matches!(
                e,
                JournalEntry::Finish {
                    attempt: AttemptEnd::Unsent(_),
                    ..
                }
            )
        })
        .count();
    assert!(
        unsent > 0,
        "claims the breaker stopped were released unsent"
    );
    for entry in journal {
        if let JournalEntry::Finish {
            attempt: AttemptEnd::Unsent(_),
            transition,
            ..
        } = entry
        {
            assert_eq!(transition.result, RunResult::Released);
            assert_eq!(
                transition.state,
                ChargeState::default(),
                "no penalty when unsent"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_claiming_and_releases_what_was_not_sent() {
    let (trigger, shutdown) = Shutdown::new();
    trigger.trigger();
    let world = Arc::new(World::default()).claims(vec![vec![claimed(
        1,
        Currency::EUR,
        ChargeState::default(),
    )]]);
    let run = bill_with(&world, config(), shutdown).await;
    assert_eq!(run.status, RunStatus::Aborted);
    assert_eq!(run.abort_reason.as_deref(), Some("shutdown requested"));
    assert!(world.calls().is_empty());
    assert_eq!(world.claims.lock().unwrap().len(), 1, "nothing was claimed");
}

#[tokio::test(start_paused = true)]
async fn an_existing_run_key_starts_nothing() {
    let world = Arc::new(World::default()).claims(vec![vec![claimed(
        1,
        Currency::EUR,
        ChargeState::default(),
    )]]);
    let run = service(&world, config(), true)
        .bill(&request(), Shutdown::never())
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert!(world.calls().is_empty());
    assert!(world.journal().is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_existing_key_from_a_different_request_is_refused() {
    let world = Arc::new(World::default());
    let other = RunRequest {
        fingerprint: "another request".into(),
        ..request()
    };
    let err = service(&world, config(), true)
        .bill(&other, Shutdown::never())
        .await
        .unwrap_err();
    assert!(matches!(err, BillingError::KeyReused { .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_draining_run_waits_for_claims_held_elsewhere_then_takes_what_becomes_due() {
    let world = Arc::new(World::default());
    // First claim finds nothing; other instances hold 2 claims for two polls; then one of
    // them is stale and the next claim takes it over.
    world.claims.lock().unwrap().extend([
        Ok(vec![]),
        Ok(vec![]),
        Ok(vec![ClaimedInvoice {
            taken_over_from: Some(InstanceId::parse("dead-1").unwrap()),
            ..claimed(9, Currency::EUR, ChargeState::default())
        }]),
    ]);
    world.held_elsewhere.lock().unwrap().extend([2, 1]);
    let run = bill(&world).await;
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(world.calls().len(), 1);
    assert_eq!(world.finish_of(9).1.status, InvoiceStatus::Paid);
}

#[tokio::test(start_paused = true)]
async fn storage_failures_hand_the_run_over_and_leave_claims_to_be_taken_over() {
    let world = Arc::new(World::default());
    world
        .claims
        .lock()
        .unwrap()
        .extend((0..20).map(|_| Err(StoreError::Unavailable("down".into()))));
    let run = bill(&world).await;
    assert_eq!(
        run.status,
        RunStatus::Running,
        "left for a live instance to resume"
    );
    assert_eq!(
        *world.finished_runs.lock().unwrap(),
        0,
        "never ended ABORTED"
    );
    assert_eq!(
        *world.retired.lock().unwrap(),
        1,
        "its instance no longer holds it"
    );

    let world = Arc::new(World::default()).claims(vec![vec![claimed(
        1,
        Currency::EUR,
        ChargeState::default(),
    )]]);
    *world.record_failures.lock().unwrap() = 1_000;
    let run = bill(&world).await;
    assert_eq!(
        run.status,
        RunStatus::Running,
        "an outcome that could not be stored hands the run over"
    );
    assert_eq!(*world.finished_runs.lock().unwrap(), 0);
    assert_eq!(world.calls().len(), 1);
}

/// A shutdown of an instance that hands its runs over (serve, on SIGTERM) leaves the run
/// RUNNING for another instance to resume; the CLI's aborts it (the tests above).
#[tokio::test(start_paused = true)]
async fn a_shutdown_that_hands_over_leaves_the_run_running_and_releases_what_was_not_sent() {
    let (trigger, shutdown) = Shutdown::new();
    trigger.trigger();
    let world = Arc::new(World::default()).claims(vec![vec![claimed(
        1,
        Currency::EUR,
        ChargeState::default(),
    )]]);
    let billing = service(&world, config(), false);
    let (run, _) = billing.create_run(&request()).await.unwrap();
    let run = billing
        .execute_with(run, shutdown, OnStop::HandOver)
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(*world.finished_runs.lock().unwrap(), 0);
    assert_eq!(*world.retired.lock().unwrap(), 1);
    assert!(world.calls().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_transient_journal_failure_is_retried_without_losing_outcomes() {
    let world = Arc::new(World::default()).claims(vec![vec![claimed(
        1,
        Currency::EUR,
        ChargeState::default(),
    )]]);
    *world.record_failures.lock().unwrap() = 2;
    let run = bill(&world).await;
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(world.finish_of(1).1.status, InvoiceStatus::Paid);
}

#[tokio::test(start_paused = true)]
async fn a_run_does_not_end_while_something_is_due() {
    // The first claim comes back empty (rows locked by a concurrent claim), yet something is due:
    // the run looks again instead of ending.
    let world = Arc::new(World::default());
    world.claims.lock().unwrap().extend([
        Ok(vec![]),
        Ok(vec![claimed(5, Currency::EUR, ChargeState::default())]),
    ]);
    world.due_reads.lock().unwrap().push_back(true);
    let run = bill(&world).await;
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(world.finish_of(5).1.status, InvoiceStatus::Paid);
}

#[tokio::test(start_paused = true)]
async fn claims_of_this_run_without_a_charge_in_flight_hand_it_over() {
    let world = Arc::new(World::default());
    *world.held_here.lock().unwrap() = 2;
    let run = bill(&world).await;
    assert_eq!(run.status, RunStatus::Running);
    assert_eq!(*world.finished_runs.lock().unwrap(), 0);
    assert_eq!(*world.retired.lock().unwrap(), 1);
}

#[tokio::test(start_paused = true)]
async fn shutdown_mid_run_finishes_the_call_in_flight_and_releases_the_rest() {
    let (trigger, shutdown) = Shutdown::new();
    let world = Arc::new(World::default()).claims(vec![
        (1..=6)
            .map(|n| claimed(n, Currency::EUR, ChargeState::default()))
            .collect(),
    ]);
    let trigger = Arc::new(Mutex::new(Some(trigger)));
    let mut billing = service(&world, config(), false);
    // The provider's first answer comes with a SIGTERM.
    let w = world.clone();
    let mut provider = MockPaymentProvider::new();
    provider.expect_wait_turn().returning(|| ());
    provider
        .expect_describe()
        .returning(|| "the mock provider".to_owned());
    provider.expect_charge().returning(move |request| {
        w.calls
            .lock()
            .unwrap()
            .push((request.invoice.id, request.key.clone()));
        if let Some(t) = trigger.lock().unwrap().take() {
            t.trigger();
        }
        charged()
    });
    billing.replace_provider_for_tests(Arc::new(provider));
    let run = billing.bill(&request(), shutdown).await.unwrap();
    assert_eq!(run.status, RunStatus::Aborted);
    let calls = world.calls();
    assert_eq!(calls.len(), 1, "nothing is sent after the signal");
    let (attempt, t, _) = world.finish_of(calls[0].0.get());
    assert!(
        matches!(attempt, AttemptEnd::Completed(_)),
        "the call in flight is recorded"
    );
    assert_eq!(t.status, InvoiceStatus::Paid);
    for n in (1..=6).filter(|n| *n != calls[0].0.get()) {
        let (attempt, t, _) = world.finish_of(n);
        assert_eq!(attempt, AttemptEnd::Unsent(1), "invoice {n}");
        assert_eq!(t.result, RunResult::Released);
        assert_eq!(t.status, InvoiceStatus::Pending);
    }
}

#[tokio::test(start_paused = true)]
async fn a_breaker_left_open_by_an_outage_lets_the_next_run_probe_and_recover() {
    let world = Arc::new(World::default());
    *world.endless.lock().unwrap() = (1..=8)
        .map(|n| claimed(n, Currency::EUR, ChargeState::default()))
        .collect();
    for n in 1..=8 {
        world.answers(n, vec![Err(ProviderError::Network("down".into())); 1_000]);
    }
    let billing = service(&world, config(), false);
    let first = billing.bill(&request(), Shutdown::never()).await.unwrap();
    assert_eq!(first.status, RunStatus::Aborted);

    // An hour later the provider is back.
    tokio::time::advance(Duration::from_secs(3_600)).await;
    world.answers.lock().unwrap().clear();
    *world.endless.lock().unwrap() = Vec::new();
    world.claims(vec![vec![claimed(
        20,
        Currency::EUR,
        ChargeState::default(),
    )]]);
    let second = billing.bill(&request(), Shutdown::never()).await.unwrap();
    assert_eq!(second.status, RunStatus::Completed, "{second:?}");
    assert_eq!(world.finish_of(20).1.status, InvoiceStatus::Paid);
}

#[tokio::test(start_paused = true)]
async fn the_executor_starts_new_runs_resumes_abandoned_ones_and_leaves_live_ones_alone() {
    let world = Arc::new(World::default());
    world.claims(vec![vec![claimed(
        1,
        Currency::EUR,
        ChargeState::default(),
    )]]);
    let started = RunExecutor::new(service(&world, config(), false));
    assert!(matches!(
        started.trigger(&request()).await.unwrap(),
        Triggered::Started(_)
    ));
    wait_idle(&started).await;
    assert_eq!(
        world.finish_of(1).1.status,
        InvoiceStatus::Paid,
        "the run was driven"
    );

    let world = Arc::new(World::default());
    let existing = RunExecutor::new(service(&world, config(), true));
    assert!(matches!(
        existing.trigger(&request()).await.unwrap(),
        Triggered::Existing(_)
    ));
    assert_eq!(existing.active(), 0, "nothing started for a live run");

    *world.abandoned.lock().unwrap() = true;
    world.claims(vec![vec![claimed(
        2,
        Currency::EUR,
        ChargeState::default(),
    )]]);
    let resumed = existing.trigger(&request()).await.unwrap();
    assert!(matches!(resumed, Triggered::Resumed(ref run) if run.instance_id.starts_with("test-")));
    wait_idle(&existing).await;
    assert_eq!(
        world.finish_of(2).1.status,
        InvoiceStatus::Paid,
        "the adopted run was driven"
    );

    let other = RunRequest {
        fingerprint: "different".into(),
        ..request()
    };
    assert!(matches!(
        existing.trigger(&other).await,
        Err(BillingError::KeyReused { .. })
    ));
    existing.stop().await;
    assert!(matches!(
        existing.trigger(&request()).await,
        Err(BillingError::ShuttingDown)
    ));
}

async fn wait_idle(executor: &RunExecutor) {
    for _ in 0..1_000 {
        if executor.active() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the run never ended");
}

/// A provider that answers after 50 ms (a minute for invoices in `hang`), failing each
/// invoice's first call in `flaky` with a network error, and keeps track of the calls in flight.
#[derive(Default)]
struct SlowProvider {
    flaky: Vec<InvoiceId>,
    hang: Vec<InvoiceId>,
    in_flight: Mutex<usize>,
    most_in_flight: Mutex<usize>,
    /// (invoice, start, end) of every call.
    calls: Mutex<Vec<(InvoiceId, tokio::time::Instant, tokio::time::Instant)>>,
}

#[async_trait::async_trait]
impl PaymentProvider for SlowProvider {
    async fn charge(&self, request: &ChargeRequest) -> Answer {
        let invoice = &request.invoice;
        let start = tokio::time::Instant::now();
        {
            let mut n = self.in_flight.lock().unwrap();
            *n += 1;
            let mut most = self.most_in_flight.lock().unwrap();
            *most = (*most).max(*n);
        }
        let latency = if self.hang.contains(&invoice.id) {
            Duration::from_secs(60)
        } else {
            Duration::from_millis(50)
        };
        tokio::time::sleep(latency).await;
        *self.in_flight.lock().unwrap() -= 1;
        let mut calls = self.calls.lock().unwrap();
        let first = !calls.iter().any(|(i, _, _)| *i == invoice.id);
        calls.push((invoice.id, start, tokio::time::Instant::now()));
        if first && self.flaky.contains(&invoice.id) {
            Err(ProviderError::Network("reset".into()))
        } else {
            charged()
        }
    }

    async fn refund(
        &self,
        _: &crate::RefundRequest,
    ) -> Result<crate::RefundDecision, ProviderError> {
        unreachable!("billing never refunds")
    }
}

#[tokio::test(start_paused = true)]
async fn concurrency_bounds_calls_and_a_task_waiting_to_resend_gives_its_slot_away() {
    let world = Arc::new(World::default()).claims(vec![
        (1..=6)
            .map(|n| claimed(n, Currency::EUR, ChargeState::default()))
            .collect(),
    ]);
    let config = BillingConfig {
        concurrency: 2,
        resend: ResendPolicy {
            tries: 3,
            base: Duration::from_secs(10),
            cap: Duration::from_secs(10),
        },
        ..config()
    };
    let provider = Arc::new(SlowProvider {
        flaky: vec![id(1)],
        ..SlowProvider::default()
    });
    let mut billing = service(&world, config, false);
    billing.replace_provider_for_tests(provider.clone());
    let run = billing.bill(&request(), Shutdown::never()).await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(
        *provider.most_in_flight.lock().unwrap(),
        2,
        "never more than C calls"
    );

    let calls = provider.calls.lock().unwrap().clone();
    assert_eq!(calls.len(), 7, "six invoices, one resend: {calls:?}");
    let of = |n: i64| -> Vec<_> { calls.iter().filter(|(i, _, _)| *i == id(n)).collect() };
    let (first_end, resend_start) = (of(1)[0].2, of(1)[1].1);
    // While invoice 1 waits to resend, both slots charge other invoices: at some instant of
    // its wait two other calls are in flight.
    let others_during_wait: Vec<_> = calls
        .iter()
        .filter(|(i, start, end)| *i != id(1) && *start >= first_end && *end <= resend_start)
        .collect();
    let overlapping = others_during_wait.iter().any(|a| {
        others_during_wait
            .iter()
            .any(|b| a.0 != b.0 && a.1 < b.2 && b.1 < a.2)
    });
    assert!(
        overlapping,
        "a task waiting to resend held a call slot: {calls:?}"
    );
    for n in 1..=6 {
        assert_eq!(
            world.finish_of(n).1.status,
            InvoiceStatus::Paid,
            "invoice {n}"
        );
    }
}

/// Bills with `provider` and one call slot; SIGTERM comes after 3 s, with a 5 s grace.
async fn bill_one_slot_until_shutdown(
    world: &Arc<World>,
    provider: &Arc<SlowProvider>,
) -> BillingRun {
    let config = BillingConfig {
        concurrency: 1,
        shutdown_grace: Duration::from_secs(5),
        ..config()
    };
    let mut billing = service(world, config, false);
    billing.replace_provider_for_tests(provider.clone());
    let (trigger, shutdown) = Shutdown::new();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3)).await;
        trigger.trigger();
    });
    billing.bill(&request(), shutdown).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn shutdown_releases_a_claim_waiting_for_a_slot_to_resend_behind_a_hung_call() {
    let world = Arc::new(World::default()).claims(vec![vec![
        claimed(1, Currency::EUR, ChargeState::default()),
        claimed(2, Currency::EUR, ChargeState::default()),
    ]]);
    // Invoice 1 fails at once and waits to resend; invoice 2 takes the only slot and hangs.
    let provider = Arc::new(SlowProvider {
        flaky: vec![id(1)],
        hang: vec![id(2)],
        ..SlowProvider::default()
    });
    let run = bill_one_slot_until_shutdown(&world, &provider).await;
    assert_eq!(run.status, RunStatus::Aborted);
    let calls: Vec<_> = provider
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|(i, _, _)| *i)
        .collect();
    assert_eq!(calls, [id(1)], "the resend was never sent");
    // The resend's intent was stored (attempt 2), so its release gives attempt 2 back; the
    // first call's outcome is still unknown, so the invoice backs off under the same key.
    let (attempt, t, _) = world.finish_of(1);
    assert_eq!(attempt, AttemptEnd::Unsent(2));
    assert_eq!(t.result, RunResult::RetryScheduled);
    assert_eq!(t.status, InvoiceStatus::Pending);
    assert_eq!(t.state.unknown_streak, 1);
}

#[tokio::test(start_paused = true)]
async fn shutdown_releases_claimed_invoices_still_waiting_for_a_slot() {
    let world = Arc::new(World::default()).claims(vec![
        (1..=4)
            .map(|n| claimed(n, Currency::EUR, ChargeState::default()))
            .collect(),
    ]);
    // Invoice 1 takes the only slot and hangs; 2, 3 and 4 wait in the buffer.
    let provider = Arc::new(SlowProvider {
        hang: vec![id(1)],
        ..SlowProvider::default()
    });
    let run = bill_one_slot_until_shutdown(&world, &provider).await;
    assert_eq!(run.status, RunStatus::Aborted);
    assert_eq!(*provider.most_in_flight.lock().unwrap(), 1);
    assert!(
        provider.calls.lock().unwrap().is_empty(),
        "only the hung call was made, and it never answered"
    );
    for n in 2..=4 {
        let (attempt, t, _) = world.finish_of(n);
        assert_eq!(attempt, AttemptEnd::Unsent(1), "invoice {n}");
        assert_eq!(t.result, RunResult::Released);
        assert_eq!(t.status, InvoiceStatus::Pending);
    }
}

/// Issue 10, window 7: a 400 for one invoice's body, a reused key or a key still in progress
/// says nothing about the provider's health, so a run full of them never opens the breaker
/// (which would release, and delay, every other invoice).
#[tokio::test(start_paused = true)]
async fn answers_about_one_invoice_never_open_the_circuit_breaker() {
    let world = Arc::new(World::default()).claims(vec![
        (1..=12)
            .map(|n| claimed(n, Currency::EUR, ChargeState::default()))
            .collect(),
    ]);
    for n in 1..=4 {
        world.answers(n, vec![Err(ProviderError::Protocol("HTTP 400".into()))]);
    }
    for n in 5..=8 {
        world.answers(n, vec![Err(ProviderError::IdempotencyKeyReused)]);
    }
    for n in 9..=12 {
        world.answers(n, vec![Err(ProviderError::InProgress), charged()]);
    }
    let service = service(&world, config(), false);
    let run = service.bill(&request(), Shutdown::never()).await.unwrap();
    assert_eq!(run.status, RunStatus::Completed);
    assert_eq!(service.breaker_state(), BreakerState::Closed);
    for n in 1..=12 {
        let (attempt, _, _) = world.finish_of(n);
        assert!(
            matches!(attempt, AttemptEnd::Completed(_)),
            "invoice {n} was called, not released: {attempt:?}"
        );
    }
    let (_, paid, _) = world.finish_of(9);
    assert_eq!(paid.status, InvoiceStatus::Paid, "in progress is resent");
}

/// Issue 10, window 4: a call timed out and the intent of its resend was written, then the run
/// stopped before the resend went out. The invoice's outcome is unknown (the provider may have
/// charged), so it ends as an unknown outcome does: same key, backoff, streak; never released
/// as if it had not been tried.
#[tokio::test(start_paused = true)]
async fn an_unknown_outcome_is_not_erased_when_the_run_stops_before_its_resend() {
    let (stop, shutdown) = Shutdown::new();
    let world = Arc::new(World::default())
        .claims(vec![vec![claimed(
            1,
            Currency::EUR,
            ChargeState::default(),
        )]])
        .answers(1, vec![Err(ProviderError::Timeout), charged()]);
    *world.stop_on_resend.lock().unwrap() = Some(stop);
    let run = bill_with(&world, config(), shutdown).await;
    assert_eq!(run.status, RunStatus::Aborted);
    assert_eq!(world.calls().len(), 1, "the resend was never sent");
    let (attempt, t, _) = world.finish_of(1);
    assert_eq!(
        attempt,
        AttemptEnd::Unsent(2),
        "the resend's intent is removed"
    );
    assert_eq!(t.status, InvoiceStatus::Pending);
    assert_eq!(t.result, RunResult::RetryScheduled);
    assert_eq!(t.state.key_seq, 0, "same key next time");
    assert_eq!(t.state.unknown_streak, 1);
    assert_eq!(t.next_attempt_at, Some(t0() + TimeDelta::seconds(30)));
}

/// Window 4 again, for a claim taken over from a dead instance: its call never reported, so
/// its outcome is unknown; released unsent at shutdown, it backs off like any unknown outcome
/// instead of being made due again as if never tried.
#[tokio::test(start_paused = true)]
async fn a_taken_over_claim_released_unsent_keeps_its_unknown_outcome() {
    let taken_over = ClaimedInvoice {
        taken_over_from: Some(InstanceId::parse("dead-00000001").unwrap()),
        ..claimed(2, Currency::EUR, ChargeState::default())
    };
    let world = Arc::new(World::default()).claims(vec![vec![
        claimed(1, Currency::EUR, ChargeState::default()),
        taken_over,
        claimed(3, Currency::EUR, ChargeState::default()),
    ]]);
    // Invoice 1 takes the only slot and hangs; 2 and 3 wait in the buffer until shutdown.
    let provider = Arc::new(SlowProvider {
        hang: vec![id(1)],
        ..SlowProvider::default()
    });
    bill_one_slot_until_shutdown(&world, &provider).await;
    let (attempt, t, _) = world.finish_of(2);
    assert_eq!(attempt, AttemptEnd::Unsent(1));
    assert_eq!(t.result, RunResult::RetryScheduled);
    assert_eq!(t.state.unknown_streak, 1);
    assert_eq!(t.state.key_seq, 0, "same key");
    let (_, never_tried, _) = world.finish_of(3);
    assert_eq!(never_tried.result, RunResult::Released);
}

/// A provider's decline comes with its reason, recorded on the attempt and carried in the
/// event; a decline the customer must act on is announced as `payment_action_required`; a
/// charge still processing stays unknown (same key) with the provider's reference kept.
#[tokio::test(start_paused = true)]
async fn decline_codes_action_required_and_processing_are_recorded_as_the_provider_said() {
    let world = Arc::new(World::default())
        .claims(vec![
            (1..=3)
                .map(|n| claimed(n, Currency::EUR, ChargeState::default()))
                .collect(),
        ])
        .answers(
            1,
            vec![Ok(ChargeDecision::Declined {
                code: Some("insufficient_funds".into()),
                action_required: false,
                provider_ref: None,
            })],
        )
        .answers(
            2,
            vec![Ok(ChargeDecision::Declined {
                code: Some("authentication_required".into()),
                action_required: true,
                provider_ref: None,
            })],
        )
        .answers(
            3,
            vec![Err(ProviderError::Processing {
                provider_ref: Some("pi_3".into()),
            })],
        );
    bill(&world).await;
    assert_eq!(
        world.calls().len(),
        3,
        "processing is not resent within the run"
    );
    let finish = |n: i64| {
        world
            .journal()
            .into_iter()
            .find_map(|e| match e {
                JournalEntry::Finish {
                    invoice,
                    attempt: AttemptEnd::Completed(c),
                    transition,
                    notification,
                    ..
                } if invoice == id(n) => Some((c, transition, notification)),
                _ => None,
            })
            .unwrap()
    };
    let (attempt, t, event) = finish(1);
    assert_eq!(attempt.decline_code.as_deref(), Some("insufficient_funds"));
    assert_eq!(t.event, Some(EventKind::ChargeDeclined));
    let data = event.unwrap().data.invoice.unwrap();
    assert_eq!(data.decline_code.as_deref(), Some("insufficient_funds"));
    let (attempt, t, _) = finish(2);
    assert_eq!(
        attempt.decline_code.as_deref(),
        Some("authentication_required")
    );
    assert_eq!(t.event, Some(EventKind::PaymentActionRequired));
    assert_eq!(
        t.status,
        InvoiceStatus::Pending,
        "a dunning step like any decline"
    );
    assert_eq!(t.state.key_seq, 1);
    let (attempt, t, _) = finish(3);
    assert_eq!(attempt.outcome, AttemptOutcome::Processing);
    assert_eq!(attempt.provider_ref.as_deref(), Some("pi_3"));
    assert_eq!(t.result, RunResult::RetryScheduled);
    assert_eq!(
        t.state.key_seq, 0,
        "same key: the next attempt asks about pi_3"
    );
}

/// A customer the provider cannot charge (no reference) is failed `no_payment_method` without
/// a call; the key stays, so a retry after a reference is added sends it.
#[tokio::test(start_paused = true)]
async fn a_customer_without_a_provider_reference_fails_without_a_call() {
    let unsendable = ClaimedInvoice {
        attempt: None,
        ..claimed(1, Currency::EUR, ChargeState::default())
    };
    let world = Arc::new(World::default()).claims(vec![vec![unsendable]]);
    bill(&world).await;
    assert!(world.calls().is_empty());
    let (attempt, t, event) = world.finish_of(1);
    assert_eq!(attempt, AttemptEnd::None);
    assert_eq!(t.failure_reason, Some(FailureReason::NoPaymentMethod));
    assert_eq!(t.state.key_seq, 0);
    assert_eq!(event, Some(EventKind::ChargeFailed));
}

/// The provider is asked with the customer's references, and a resend tells when the key was
/// first sent.
#[tokio::test(start_paused = true)]
async fn the_provider_is_asked_with_the_customers_references_and_the_keys_first_sending() {
    let with_refs = ClaimedInvoice {
        customer: antaeus_models::ProviderRefs {
            customer_ref: Some("cus_1".into()),
            payment_method_ref: Some("pm_1".into()),
        },
        ..claimed(1, Currency::EUR, ChargeState::default())
    };
    let seen = Arc::new(Mutex::new(Vec::<ChargeRequest>::new()));
    let world = Arc::new(World::default()).claims(vec![vec![with_refs]]);
    let mut billing = service(&world, config(), false);
    let mut provider = MockPaymentProvider::new();
    provider.expect_wait_turn().returning(|| ());
    provider
        .expect_describe()
        .returning(|| "the mock provider".to_owned());
    let s = seen.clone();
    provider.expect_charge().returning(move |request| {
        let mut seen = s.lock().unwrap();
        seen.push(request.clone());
        if seen.len() == 1 {
            Err(ProviderError::Timeout)
        } else {
            charged()
        }
    });
    billing.replace_provider_for_tests(Arc::new(provider));
    billing.bill(&request(), Shutdown::never()).await.unwrap();
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].customer.customer_ref.as_deref(), Some("cus_1"));
    assert_eq!(seen[0].key_first_sent_at, None, "a first sending");
    assert_eq!(seen[1].key, seen[0].key);
    assert_eq!(seen[1].key_first_sent_at, Some(t0()), "the resend knows");
}
