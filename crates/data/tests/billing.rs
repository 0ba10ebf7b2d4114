//! The billing engine's storage, on SQLite and PostgreSQL: claims, fences, the journal, runs,
//! heartbeats and the outbox.

mod common;

use std::collections::HashSet;

use antaeus_core::billing::{ChargeEvent, ChargeState, RetryPolicy, transition};
use antaeus_core::store::{
    AttemptCompletion, AttemptEnd, AttemptStore, BillingStore, ClaimRequest, ClaimedInvoice,
    InstanceStore, InvoiceStore, JournalEntry, NewRun, OutboxStore, RetryOutcome, RunEnd, RunStore,
    VoidOutcome,
};
use antaeus_data::NewInvoice;
use antaeus_data::testing::TestDatabase;
use antaeus_models::PageRequest;
use antaeus_models::{
    AttemptOutcome, BillingRun, Currency, EventData, EventKind, FailureReason, IdempotencyKey,
    InstanceId, Invoice, InvoiceEvent, InvoiceId, InvoiceStatus, Money, Notification, RunScope,
    RunStatus, RunTrigger,
};
use chrono::{DateTime, TimeDelta, Utc};

on_every_backend!(
    a_claim_marks_invoices_charging_and_records_the_intent_of_each_call,
    concurrent_claims_never_share_an_invoice,
    only_due_pending_invoices_are_claimed,
    a_currency_mismatch_is_claimed_without_an_intent,
    a_stale_claim_is_taken_over_with_the_same_key_and_a_live_one_is_not,
    finishing_applies_the_transition_and_its_event_once,
    a_finish_from_a_lost_claim_is_fenced_out_but_its_call_is_logged,
    a_resend_records_a_new_intent_under_the_same_key,
    a_finish_at_an_old_fence_is_fenced_out_even_for_the_owner,
    a_batch_larger_than_one_statement_is_applied_whole,
    a_stale_owners_resend_is_fenced_out_after_its_claim_was_released_and_claimed_again,
    an_instance_whose_clock_runs_25s_ahead_does_not_take_over_a_live_claim,
    abandoned_runs_are_the_running_ones_whose_instance_went_silent,
    a_run_scope_decides_which_due_invoices_a_claim_takes,
    voiding_takes_pending_and_failed_invoices_out_of_billing_with_an_event,
    a_void_racing_a_claim_is_either_applied_first_or_refused_never_both,
    a_claim_that_resends_a_key_knows_when_it_was_first_sent_and_the_providers_reference,
    a_customer_without_a_provider_reference_is_claimed_without_an_attempt_when_one_is_needed,
    intents_keep_their_instant_and_the_references_their_key_was_first_sent_with,
    the_consoles_totals_follow_every_write_that_changes_them,
    an_unsent_attempt_is_removed_and_the_invoice_released,
    runs_are_created_once_per_key_and_finish_with_an_event,
    the_outbox_leases_reschedules_and_settles_events,
    backlog_reports_due_and_claimed_invoices,
    concurrent_takeovers_of_the_same_stale_claims_never_share_one,
    an_abandoned_run_is_adopted_once_and_a_live_one_never,
    runs_are_listed_newest_first,
    retrying_makes_failed_and_scheduled_invoices_due_and_refuses_the_rest,
    the_consoles_filters_find_invoices_by_currency_reason_and_due_date_in_keyset_pages,
    a_runs_problem_calls_and_an_invoices_events_are_read_in_bounded_pages,
);

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

fn instance(name: &str) -> InstanceId {
    InstanceId::parse(name).unwrap()
}

/// `n` customers in EUR with one PENDING invoice each; returns the invoice ids.
async fn pending_invoices(db: &TestDatabase, n: usize) -> Vec<InvoiceId> {
    let customers = db
        .db
        .insert_customers(vec![Currency::EUR; n])
        .await
        .unwrap();
    let invoices = customers
        .iter()
        .map(|c| NewInvoice {
            customer_id: c.id,
            amount: Money::from_minor(1_000, Currency::EUR).unwrap(),
            status: InvoiceStatus::Pending,
        })
        .collect();
    db.db.insert_invoices(invoices).await.unwrap();
    all_invoices(db).await.iter().map(|i| i.id).collect()
}

async fn all_invoices(db: &TestDatabase) -> Vec<Invoice> {
    db.db
        .list_invoices(Default::default(), Default::default())
        .await
        .unwrap()
}

async fn invoice(db: &TestDatabase, id: InvoiceId) -> Invoice {
    db.db.fetch_invoice(id).await.unwrap().unwrap()
}

async fn new_run(db: &TestDatabase, key: &str, now: DateTime<Utc>) -> BillingRun {
    db.db
        .create_run(&NewRun {
            idempotency_key: IdempotencyKey::parse(key).unwrap(),
            trigger: RunTrigger::Cli,
            instance: instance("creator"),
            now,
            request_fingerprint: "scope=all".into(),
            scope: RunScope::All,
        })
        .await
        .unwrap()
        .0
}

async fn claim(
    db: &TestDatabase,
    who: &InstanceId,
    run: &BillingRun,
    now: DateTime<Utc>,
    limit: u32,
) -> Vec<ClaimedInvoice> {
    db.db.heartbeat(who).await.unwrap();
    db.db
        .claim(&ClaimRequest {
            instance: who.clone(),
            run: run.id,
            now,
            limit,
            lease_timeout: TimeDelta::seconds(30),
            fresh_after: None,
            include_stale: true,
            scope: RunScope::All,
            require_customer_ref: false,
        })
        .await
        .unwrap()
}

/// The journal entry that ends `claimed`'s first call with the unknown `outcome` (at t0) and
/// resends its key at `started_at`.
fn resend_after(
    claimed: &ClaimedInvoice,
    run: &BillingRun,
    outcome: AttemptOutcome,
    started_at: DateTime<Utc>,
) -> JournalEntry {
    JournalEntry::Resend {
        invoice: claimed.invoice.id,
        run: run.id,
        fence: 1,
        completed: AttemptCompletion {
            number: 1,
            outcome,
            message: Some("reset".into()),
            decline_code: None,
            provider_ref: None,
            finished_at: t0(),
        },
        key: claimed.attempt.as_ref().unwrap().key.clone(),
        started_at,
    }
}

/// The journal entry that ends `claimed`'s attempt with `outcome` at `now`.
fn finish(
    claimed: &ClaimedInvoice,
    run: &BillingRun,
    outcome: AttemptOutcome,
    now: DateTime<Utc>,
) -> JournalEntry {
    let t = transition(
        claimed.state,
        claimed.invoice.next_attempt_at,
        ChargeEvent::Called(outcome),
        &RetryPolicy::default(),
        now,
    );
    let notification = t.event.map(|kind| {
        Box::new(Notification {
            id: format!("evt_{}_{}", claimed.invoice.id, claimed.fence()),
            kind,
            created_at: now,
            data: EventData {
                invoice: Some(InvoiceEvent::of(
                    &claimed.invoice,
                    Some(outcome),
                    Some(run.id.get()),
                )),
                run: None,
            },
        })
    });
    JournalEntry::Finish {
        invoice: claimed.invoice.id,
        run: run.id,
        fence: claimed.fence(),
        attempts: claimed.invoice.attempts,
        amount: claimed.invoice.amount,
        at: t0(),
        attempt: AttemptEnd::Completed(AttemptCompletion {
            number: claimed.attempt.as_ref().unwrap().number,
            outcome,
            message: Some(format!("{outcome}")),
            decline_code: None,
            provider_ref: None,
            finished_at: now,
        }),
        transition: t,
        notification,
    }
}

async fn a_claim_marks_invoices_charging_and_records_the_intent_of_each_call(db: TestDatabase) {
    let ids = pending_invoices(&db, 3).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), 10).await;
    assert_eq!(claimed.len(), 3);
    for c in &claimed {
        assert_eq!(c.invoice.status, InvoiceStatus::Charging);
        assert_eq!(c.invoice.attempts, 1);
        assert_eq!(c.state, ChargeState::default());
        assert_eq!(c.taken_over_from, None);
        let planned = c.attempt.as_ref().unwrap();
        assert_eq!(planned.number, 1);
        let ns = db.db.deployment_id().await.unwrap();
        assert_eq!(ns.len(), 12, "{ns}");
        assert_eq!(
            planned.key.as_str(),
            format!("antaeus-{ns}-{}-0", c.invoice.id),
            "keys name this deployment"
        );
        // The intent is stored before any call.
        let log = db.db.list_attempts(c.invoice.id).await.unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].idempotency_key, planned.key);
        assert_eq!(log[0].run_id, Some(run.id));
        assert_eq!(log[0].instance_id, "worker-a");
        assert_eq!(log[0].outcome, None);
        assert_eq!(log[0].started_at, t0());
        assert_eq!(
            invoice(&db, c.invoice.id).await.status,
            InvoiceStatus::Charging
        );
    }
    let got: HashSet<_> = claimed.iter().map(|c| c.invoice.id).collect();
    assert_eq!(got, ids.into_iter().collect());
    assert_eq!(
        db.db
            .fetch_run(run.id)
            .await
            .unwrap()
            .unwrap()
            .counts
            .claimed,
        3
    );
    assert!(
        claim(&db, &me, &run, t0(), 10).await.is_empty(),
        "nothing left to claim"
    );
}

async fn concurrent_claims_never_share_an_invoice(db: TestDatabase) {
    let ids = pending_invoices(&db, 300).await;
    let run = new_run(&db, "run-1", t0()).await;
    let mut claimers = Vec::new();
    for n in 0..6 {
        let store = db.db.clone();
        let run = run.clone();
        claimers.push(tokio::spawn(async move {
            let me = instance(&format!("worker-{n}"));
            store.heartbeat(&me).await.unwrap();
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim(&ClaimRequest {
                        instance: me.clone(),
                        run: run.id,
                        now: t0(),
                        limit: 7,
                        lease_timeout: TimeDelta::seconds(30),
                        fresh_after: None,
                        include_stale: true,
                        scope: RunScope::All,
                        require_customer_ref: false,
                    })
                    .await
                    .unwrap();
                if got.is_empty() {
                    break mine;
                }
                mine.extend(got.into_iter().map(|c| c.invoice.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    for claimer in claimers {
        for id in claimer.await.unwrap() {
            assert!(seen.insert(id), "invoice {id} claimed twice");
        }
    }
    assert_eq!(seen, ids.into_iter().collect::<HashSet<_>>());
}

async fn only_due_pending_invoices_are_claimed(db: TestDatabase) {
    pending_invoices(&db, 4).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), 10).await;
    // One is charged (PAID), one declined (due in a day), one fails, one's outcome is unknown (30 s).
    let outcomes = [
        AttemptOutcome::Charged,
        AttemptOutcome::Declined,
        AttemptOutcome::CustomerNotFound,
        AttemptOutcome::Timeout,
    ];
    let batch: Vec<_> = claimed
        .iter()
        .zip(outcomes)
        .map(|(c, o)| finish(c, &run, o, t0()))
        .collect();
    let report = db.db.record(&me, &batch).await.unwrap();
    assert!(report.fenced_out.is_empty());
    assert!(
        claim(&db, &me, &run, t0() + TimeDelta::seconds(29), 10)
            .await
            .is_empty()
    );
    let retry = claim(&db, &me, &run, t0() + TimeDelta::seconds(31), 10).await;
    assert_eq!(retry.len(), 1, "the unknown outcome is due after 30 s");
    assert_eq!(retry[0].invoice.id, claimed[3].invoice.id);
    assert_eq!(retry[0].state.unknown_streak, 1);
    assert_eq!(
        retry[0].attempt.as_ref().unwrap().key,
        claimed[3].attempt.as_ref().unwrap().key,
        "an unknown outcome is retried under the same key"
    );
    let declined = claim(&db, &me, &run, t0() + TimeDelta::days(1), 10).await;
    assert_eq!(declined.len(), 1, "the decline is due after a day");
    assert_eq!(declined[0].invoice.id, claimed[1].invoice.id);
    assert_eq!(
        declined[0].attempt.as_ref().unwrap().key.as_str(),
        format!(
            "antaeus-{}-{}-1",
            db.db.deployment_id().await.unwrap(),
            claimed[1].invoice.id
        ),
        "a decline moves to a new key"
    );
    assert_eq!(declined[0].invoice.attempts, 2);
}

async fn a_currency_mismatch_is_claimed_without_an_intent(db: TestDatabase) {
    let customer = db
        .db
        .insert_customers(vec![Currency::DKK])
        .await
        .unwrap()
        .remove(0);
    db.db
        .insert_invoices(vec![NewInvoice {
            customer_id: customer.id,
            amount: Money::from_minor(500, Currency::EUR).unwrap(),
            status: InvoiceStatus::Pending,
        }])
        .await
        .unwrap();
    let run = new_run(&db, "run-1", t0()).await;
    let claimed = claim(&db, &instance("worker-a"), &run, t0(), 10).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempt, None);
    assert_eq!(claimed[0].customer_currency, Currency::DKK);
    assert_eq!(claimed[0].invoice.attempts, 0);
    assert!(
        db.db
            .list_attempts(claimed[0].invoice.id)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_stale_claim_is_taken_over_with_the_same_key_and_a_live_one_is_not(db: TestDatabase) {
    pending_invoices(&db, 2).await;
    let run = new_run(&db, "run-1", t0()).await;
    let (a, b) = (instance("worker-a"), instance("worker-b"));
    let by_a = claim(&db, &a, &run, t0(), 1).await;
    assert_eq!(by_a.len(), 1);
    // Within the lease, and while `a` heartbeats, `b` cannot take it.
    let by_b = claim(&db, &b, &run, t0() + TimeDelta::seconds(20), 10).await;
    assert_eq!(by_b.len(), 1, "only the other, unclaimed invoice");
    assert_ne!(by_b[0].invoice.id, by_a[0].invoice.id);
    db.age_heartbeat(&a, TimeDelta::seconds(28)).await;
    assert!(
        claim(&db, &b, &run, t0() + TimeDelta::seconds(50), 10)
            .await
            .is_empty()
    );
    // `a` stops heartbeating: 30 s after its last beat its claim is stale.
    db.age_heartbeat(&a, TimeDelta::seconds(3)).await;
    let taken = claim(&db, &b, &run, t0() + TimeDelta::seconds(56), 10).await;
    let ids: Vec<_> = taken.iter().map(|c| c.invoice.id).collect();
    assert!(ids.contains(&by_a[0].invoice.id), "{ids:?}");
    let takeover = taken
        .iter()
        .find(|c| c.invoice.id == by_a[0].invoice.id)
        .unwrap();
    assert_eq!(takeover.taken_over_from, Some(a.clone()));
    let planned = takeover.attempt.as_ref().unwrap();
    assert_eq!(planned.number, 2);
    assert_eq!(
        planned.key,
        by_a[0].attempt.as_ref().unwrap().key,
        "same key: a resend"
    );
    let log = db.db.list_attempts(takeover.invoice.id).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].outcome, Some(AttemptOutcome::Abandoned));
    assert_eq!(log[0].instance_id, "worker-a");
    assert_eq!(log[1].outcome, None);
    assert_eq!(log[1].instance_id, "worker-b");
    // An instance never takes over its own claims, however late its heartbeat (a slow
    // heartbeat must not make it race itself)...
    let late = t0() + TimeDelta::hours(1);
    db.age_heartbeat(&b, TimeDelta::hours(1)).await;
    let mine = db
        .db
        .claim(&ClaimRequest {
            instance: b.clone(),
            run: run.id,
            now: late,
            limit: 10,
            lease_timeout: TimeDelta::seconds(30),
            fresh_after: None,
            include_stale: true,
            scope: RunScope::All,
            require_customer_ref: false,
        })
        .await
        .unwrap();
    assert!(
        mine.is_empty(),
        "b's own claims are not stale to b: {mine:?}"
    );
    // ...but another instance takes them once b's heartbeat is old.
    let taken = claim(&db, &instance("worker-c"), &run, late, 10).await;
    assert_eq!(taken.len(), 2);
}

async fn finishing_applies_the_transition_and_its_event_once(db: TestDatabase) {
    pending_invoices(&db, 2).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), 10).await;
    let later = t0() + TimeDelta::seconds(1);
    let batch = vec![
        finish(&claimed[0], &run, AttemptOutcome::Charged, later),
        finish(&claimed[1], &run, AttemptOutcome::CustomerNotFound, later),
    ];
    assert!(
        db.db
            .record(&me, &batch)
            .await
            .unwrap()
            .fenced_out
            .is_empty()
    );

    let paid = invoice(&db, claimed[0].invoice.id).await;
    assert_eq!(paid.status, InvoiceStatus::Paid);
    assert_eq!(paid.attempts, 1);
    let failed = invoice(&db, claimed[1].invoice.id).await;
    assert_eq!(failed.status, InvoiceStatus::Failed);
    assert_eq!(failed.failure_reason, Some(FailureReason::CustomerNotFound));
    let log = db.db.list_attempts(claimed[0].invoice.id).await.unwrap();
    assert_eq!(log[0].outcome, Some(AttemptOutcome::Charged));
    assert_eq!(log[0].finished_at, Some(later));
    let counts = db.db.fetch_run(run.id).await.unwrap().unwrap().counts;
    assert_eq!((counts.claimed, counts.paid, counts.failed), (2, 1, 1));
    // The payment's and the failure's events are in the outbox, once each.
    let events = db
        .db
        .take_due_events(later, 10, TimeDelta::minutes(1))
        .await
        .unwrap();
    let mut kinds: Vec<EventKind> = events
        .iter()
        .map(|e| e.notification.as_ref().unwrap().kind)
        .collect();
    kinds.sort();
    assert_eq!(kinds, [EventKind::ChargeFailed, EventKind::Paid]);
    // Replaying the batch changes nothing: the claims are over, so the fence refuses it.
    let again = db.db.record(&me, &batch).await.unwrap();
    assert_eq!(again.fenced_out.len(), 2);
    assert_eq!(db.db.outbox_backlog().await.unwrap(), 2);
    assert_eq!(
        db.db.fetch_run(run.id).await.unwrap().unwrap().counts.paid,
        1
    );
}

async fn a_finish_from_a_lost_claim_is_fenced_out_but_its_call_is_logged(db: TestDatabase) {
    pending_invoices(&db, 1).await;
    let run = new_run(&db, "run-1", t0()).await;
    let (a, b) = (instance("worker-a"), instance("worker-b"));
    let by_a = claim(&db, &a, &run, t0(), 1).await;
    db.db.retire(&a).await.unwrap();
    let by_b = claim(&db, &b, &run, t0() + TimeDelta::seconds(1), 1).await;
    assert_eq!(by_b.len(), 1);
    // `a` was only slow: its answer arrives now. Its invoice change is refused...
    let report = db
        .db
        .record(
            &a,
            &[finish(
                &by_a[0],
                &run,
                AttemptOutcome::Declined,
                t0() + TimeDelta::seconds(2),
            )],
        )
        .await
        .unwrap();
    assert_eq!(report.fenced_out, vec![by_a[0].invoice.id]);
    let now = invoice(&db, by_a[0].invoice.id).await;
    assert_eq!(now.status, InvoiceStatus::Charging, "b still owns it");
    // ...but the log keeps what the provider said to `a`, over the "abandoned" guess.
    let log = db.db.list_attempts(by_a[0].invoice.id).await.unwrap();
    assert_eq!(log[0].outcome, Some(AttemptOutcome::Declined));
    // `b` resends the same key; the provider replays "declined"; b's finish applies.
    let report = db
        .db
        .record(
            &b,
            &[finish(
                &by_b[0],
                &run,
                AttemptOutcome::Declined,
                t0() + TimeDelta::seconds(3),
            )],
        )
        .await
        .unwrap();
    assert!(report.fenced_out.is_empty());
    let done = invoice(&db, by_a[0].invoice.id).await;
    assert_eq!(done.status, InvoiceStatus::Pending);
    assert_eq!(done.attempts, 2);
    assert!(done.next_attempt_at.is_some());
}

async fn a_resend_records_a_new_intent_under_the_same_key(db: TestDatabase) {
    pending_invoices(&db, 1).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), 1).await.remove(0);
    let key = claimed.attempt.as_ref().unwrap().key.clone();
    let resend = resend_after(
        &claimed,
        &run,
        AttemptOutcome::NetworkError,
        t0() + TimeDelta::milliseconds(200),
    );
    assert!(
        db.db
            .record(&me, std::slice::from_ref(&resend))
            .await
            .unwrap()
            .fenced_out
            .is_empty()
    );
    let log = db.db.list_attempts(claimed.invoice.id).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].outcome, Some(AttemptOutcome::NetworkError));
    assert_eq!(log[1].attempt_number, 2);
    assert_eq!(log[1].idempotency_key, key);
    assert_eq!(log[1].outcome, None);
    assert_eq!(invoice(&db, claimed.invoice.id).await.attempts, 2);
    // Replaying the batch (its commit was never acknowledged) changes nothing and is no loss
    // of the claim.
    let replay = db
        .db
        .record(&me, std::slice::from_ref(&resend))
        .await
        .unwrap();
    assert!(replay.fenced_out.is_empty());
    assert_eq!(
        db.db.list_attempts(claimed.invoice.id).await.unwrap().len(),
        2
    );
    assert_eq!(invoice(&db, claimed.invoice.id).await.attempts, 2);
    // From another instance, the same entry is fenced out.
    let other = db
        .db
        .record(&instance("worker-z"), std::slice::from_ref(&resend))
        .await
        .unwrap();
    assert_eq!(other.fenced_out, vec![claimed.invoice.id]);
}

async fn an_unsent_attempt_is_removed_and_the_invoice_released(db: TestDatabase) {
    pending_invoices(&db, 1).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), 1).await.remove(0);
    let t = transition(
        claimed.state,
        None,
        ChargeEvent::ReleasedUnsent,
        &RetryPolicy::default(),
        t0(),
    );
    let entry = JournalEntry::Finish {
        invoice: claimed.invoice.id,
        run: run.id,
        fence: claimed.fence(),
        attempts: 0,
        amount: claimed.invoice.amount,
        at: t0(),
        attempt: AttemptEnd::Unsent(1),
        transition: t,
        notification: None,
    };
    db.db.record(&me, &[entry]).await.unwrap();
    let released = invoice(&db, claimed.invoice.id).await;
    assert_eq!(released.status, InvoiceStatus::Pending);
    assert_eq!(released.attempts, 0);
    assert_eq!(released.next_attempt_at, None);
    assert!(
        db.db
            .list_attempts(claimed.invoice.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.db
            .fetch_run(run.id)
            .await
            .unwrap()
            .unwrap()
            .counts
            .released,
        1
    );
    let again = claim(&db, &me, &run, t0(), 1).await;
    assert_eq!(
        again[0].attempt.as_ref().unwrap().number,
        1,
        "the number is reused"
    );
}

async fn runs_are_created_once_per_key_and_finish_with_an_event(db: TestDatabase) {
    let key = IdempotencyKey::parse("2026-12-01T00:00:00Z").unwrap();
    let mut creators = Vec::new();
    for n in 0..8 {
        let store = db.db.clone();
        let key = key.clone();
        creators.push(tokio::spawn(async move {
            store
                .create_run(&NewRun {
                    idempotency_key: key,
                    trigger: RunTrigger::Scheduler,
                    instance: instance(&format!("i{n}")),
                    now: t0(),
                    request_fingerprint: "scope=all".into(),
                    scope: RunScope::All,
                })
                .await
                .unwrap()
        }));
    }
    let mut created = 0;
    let mut ids = HashSet::new();
    for c in creators {
        let (run, new) = c.await.unwrap();
        created += usize::from(new);
        ids.insert(run.id);
        assert_eq!(run.status, RunStatus::Running);
        assert_eq!(run.trigger, RunTrigger::Scheduler);
    }
    assert_eq!(created, 1, "exactly one creator");
    assert_eq!(ids.len(), 1, "everyone sees the same run");
    let id = *ids.iter().next().unwrap();
    let end = RunEnd {
        status: RunStatus::Completed,
        abort_reason: None,
        now: t0() + TimeDelta::minutes(1),
    };
    let ended = db.db.finish_run(id, &end).await.unwrap();
    assert_eq!(ended.status, RunStatus::Completed);
    assert_eq!(ended.finished_at, Some(end.now));
    // Finishing again changes nothing and adds no second event.
    let aborted = RunEnd {
        status: RunStatus::Aborted,
        abort_reason: Some("late".into()),
        now: t0() + TimeDelta::minutes(2),
    };
    assert_eq!(db.db.finish_run(id, &aborted).await.unwrap(), ended);
    let events = db
        .db
        .take_due_events(end.now, 10, TimeDelta::minutes(1))
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let event = events[0].notification.as_ref().unwrap();
    assert_eq!(event.kind, EventKind::RunCompleted);
    assert_eq!(event.data.run.as_ref().unwrap().id, id.get());
}

async fn the_outbox_leases_reschedules_and_settles_events(db: TestDatabase) {
    let run = new_run(&db, "run-1", t0()).await;
    db.db
        .finish_run(
            run.id,
            &RunEnd {
                status: RunStatus::Completed,
                abort_reason: None,
                now: t0(),
            },
        )
        .await
        .unwrap();
    let lease = TimeDelta::minutes(1);
    let taken = db.db.take_due_events(t0(), 10, lease).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].failures, 0);
    assert!(
        db.db
            .take_due_events(t0(), 10, lease)
            .await
            .unwrap()
            .is_empty(),
        "leased"
    );
    // A failed delivery comes back when its retry is due.
    db.db
        .mark_failed(taken[0].seq, "receiver down", t0() + TimeDelta::seconds(5))
        .await
        .unwrap();
    assert!(
        db.db
            .take_due_events(t0() + TimeDelta::seconds(4), 10, lease)
            .await
            .unwrap()
            .is_empty()
    );
    let again = db
        .db
        .take_due_events(t0() + TimeDelta::seconds(5), 10, lease)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].failures, 1);
    assert_eq!(again[0].notification, taken[0].notification);
    // An expired lease makes it due again (the worker died mid-delivery).
    let after_lease = t0() + TimeDelta::seconds(5) + lease;
    assert_eq!(
        db.db
            .take_due_events(after_lease, 10, lease)
            .await
            .unwrap()
            .len(),
        1
    );
    db.db
        .mark_delivered(&[again[0].seq], after_lease)
        .await
        .unwrap();
    assert_eq!(db.db.outbox_backlog().await.unwrap(), 0);
    assert!(
        db.db
            .take_due_events(after_lease + TimeDelta::days(1), 10, lease)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn backlog_reports_due_and_claimed_invoices(db: TestDatabase) {
    let me = instance("worker-a");
    let other = instance("worker-b");
    let before = db.db.backlog(t0(), &me, RunScope::All).await.unwrap();
    assert!(!before.due);
    assert_eq!((before.claimed_here, before.claimed_elsewhere), (0, 0));
    pending_invoices(&db, 2).await;
    assert!(db.db.backlog(t0(), &me, RunScope::All).await.unwrap().due);
    let run = new_run(&db, "run-1", t0()).await;
    let claimed = claim(&db, &me, &run, t0(), 10).await;
    let mid = db.db.backlog(t0(), &me, RunScope::All).await.unwrap();
    assert!(!mid.due);
    assert_eq!((mid.claimed_here, mid.claimed_elsewhere), (2, 0));
    let seen_by_other = db.db.backlog(t0(), &other, RunScope::All).await.unwrap();
    assert_eq!(
        (seen_by_other.claimed_here, seen_by_other.claimed_elsewhere),
        (0, 2)
    );
    let batch: Vec<_> = claimed
        .iter()
        .map(|c| finish(c, &run, AttemptOutcome::Declined, t0()))
        .collect();
    db.db.record(&me, &batch).await.unwrap();
    let after = db.db.backlog(t0(), &me, RunScope::All).await.unwrap();
    assert_eq!((after.claimed_here, after.claimed_elsewhere), (0, 0));
    assert!(!after.due, "declines are due tomorrow");
    assert!(
        db.db
            .backlog(t0() + TimeDelta::days(1), &me, RunScope::All)
            .await
            .unwrap()
            .due
    );
    let all = all_invoices(&db).await;
    assert!(
        all.iter()
            .all(|i| i.status == InvoiceStatus::Pending && i.next_attempt_at.is_some())
    );
}

async fn concurrent_takeovers_of_the_same_stale_claims_never_share_one(db: TestDatabase) {
    pending_invoices(&db, 40).await;
    let run = new_run(&db, "run-1", t0()).await;
    let dead = instance("worker-dead");
    assert_eq!(claim(&db, &dead, &run, t0(), 40).await.len(), 40);
    db.db.retire(&dead).await.unwrap();
    let later = t0() + TimeDelta::seconds(1);
    let mut racers = Vec::new();
    for n in 0..5 {
        let store = db.db.clone();
        racers.push(tokio::spawn(async move {
            let me = instance(&format!("worker-{n}"));
            store.heartbeat(&me).await.unwrap();
            store
                .claim(&ClaimRequest {
                    instance: me,
                    run: run.id,
                    now: later,
                    limit: 15,
                    lease_timeout: TimeDelta::seconds(30),
                    fresh_after: None,
                    include_stale: true,
                    scope: RunScope::All,
                    require_customer_ref: false,
                })
                .await
                .unwrap()
        }));
    }
    let mut seen = HashSet::new();
    for racer in racers {
        for c in racer.await.unwrap() {
            assert_eq!(c.taken_over_from, Some(dead.clone()));
            assert_eq!(c.attempt.as_ref().unwrap().number, 2);
            assert!(
                seen.insert(c.invoice.id),
                "{} taken over twice",
                c.invoice.id
            );
        }
    }
    assert_eq!(seen.len(), 40);
    for id in seen {
        let log = db.db.list_attempts(id).await.unwrap();
        assert_eq!(log.len(), 2, "exactly one takeover: {log:?}");
        assert_eq!(log[0].outcome, Some(AttemptOutcome::Abandoned));
    }
}

async fn an_abandoned_run_is_adopted_once_and_a_live_one_never(db: TestDatabase) {
    let run = new_run(&db, "run-1", t0()).await;
    let lease = TimeDelta::seconds(30);
    // Its creator registered as alive when creating it: not adoptable within the lease.
    let early = db
        .db
        .adopt_run(run.id, &instance("b"), lease)
        .await
        .unwrap();
    assert_eq!(early, None);
    // The creator is gone: several adopters race, one wins.
    db.age_heartbeat(&instance("creator"), TimeDelta::minutes(5))
        .await;
    let later = t0() + TimeDelta::minutes(5);
    let mut racers = Vec::new();
    for n in 0..4 {
        let store = db.db.clone();
        racers.push(tokio::spawn(async move {
            store
                .adopt_run(run.id, &instance(&format!("adopter-{n}")), lease)
                .await
                .unwrap()
        }));
    }
    let mut adopted = Vec::new();
    for r in racers {
        adopted.extend(r.await.unwrap());
    }
    assert_eq!(adopted.len(), 1, "{adopted:?}");
    assert!(adopted[0].instance_id.starts_with("adopter-"));
    // The adopter is alive now: nobody else adopts it.
    assert_eq!(
        db.db
            .adopt_run(run.id, &instance("late"), lease)
            .await
            .unwrap(),
        None
    );
    // An ended run is never adopted.
    db.db
        .finish_run(
            run.id,
            &RunEnd {
                status: RunStatus::Completed,
                abort_reason: None,
                now: later,
            },
        )
        .await
        .unwrap();
    db.age_heartbeat(&instance(&adopted[0].instance_id), TimeDelta::hours(1))
        .await;
    assert_eq!(
        db.db
            .adopt_run(run.id, &instance("late"), lease)
            .await
            .unwrap(),
        None
    );
}

async fn runs_are_listed_newest_first(db: TestDatabase) {
    for n in 0..5 {
        new_run(&db, &format!("run-{n}"), t0()).await;
    }
    let page = |after: Option<i64>, limit: u16| PageRequest {
        after: after.map(|a| antaeus_models::RunId::new(a).unwrap()),
        limit: antaeus_models::PageLimit::new(limit).unwrap(),
    };
    let first = db.db.list_runs(page(None, 2)).await.unwrap();
    let ids: Vec<i64> = first.iter().map(|r| r.id.get()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] > ids[1]);
    let rest = db.db.list_runs(page(Some(ids[1]), 10)).await.unwrap();
    assert_eq!(rest.len(), 3);
    assert!(rest.iter().all(|r| r.id.get() < ids[1]));
    assert_eq!(first[0].request_fingerprint.as_deref(), Some("scope=all"));
}

async fn retrying_makes_failed_and_scheduled_invoices_due_and_refuses_the_rest(db: TestDatabase) {
    pending_invoices(&db, 4).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), 3).await;
    let batch = vec![
        finish(&claimed[0], &run, AttemptOutcome::Charged, t0()),
        finish(&claimed[1], &run, AttemptOutcome::CustomerNotFound, t0()),
    ];
    db.db.record(&me, &batch).await.unwrap();
    let (paid, failed, charging) = (
        claimed[0].invoice.id,
        claimed[1].invoice.id,
        claimed[2].invoice.id,
    );
    let due = all_invoices(&db)
        .await
        .into_iter()
        .find(|i| i.attempts == 0)
        .unwrap()
        .id;
    let retry = |id| db.db.retry_invoice(id, t0());
    assert_eq!(retry(paid).await.unwrap(), RetryOutcome::Paid);
    assert_eq!(retry(charging).await.unwrap(), RetryOutcome::Charging);
    assert!(matches!(
        retry(due).await.unwrap(),
        RetryOutcome::AlreadyDue(_)
    ));
    assert_eq!(
        retry(InvoiceId::new(424_242).unwrap()).await.unwrap(),
        RetryOutcome::NotFound
    );
    let RetryOutcome::MadeDue(retried) = retry(failed).await.unwrap() else {
        panic!("a FAILED invoice is made due")
    };
    assert_eq!(retried.status, InvoiceStatus::Pending);
    assert_eq!(
        (retried.failure_reason, retried.next_attempt_at),
        (None, Some(t0())),
        "a retry due now: the hourly sweep (retries) charges it too"
    );
    // An invoice voided is never retried.
    let VoidOutcome::Voided(_) = db.db.void_invoice(due, t0()).await.unwrap() else {
        panic!("a PENDING invoice is voided")
    };
    assert_eq!(retry(due).await.unwrap(), RetryOutcome::Void);
    // It is claimable again, under the next key (the failure was a definitive answer).
    let again = claim(&db, &me, &run, t0(), 10).await;
    let planned = again
        .iter()
        .find(|c| c.invoice.id == failed)
        .unwrap()
        .attempt
        .clone()
        .unwrap();
    let ns = db.db.deployment_id().await.unwrap();
    assert_eq!(planned.key.as_str(), format!("antaeus-{ns}-{failed}-1"));
    let counts = db.db.count_by_status().await.unwrap();
    assert!(counts.contains(&(InvoiceStatus::Paid, 1)), "{counts:?}");
}

async fn a_finish_at_an_old_fence_is_fenced_out_even_for_the_owner(db: TestDatabase) {
    pending_invoices(&db, 1).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), 1).await.remove(0);
    let resend = resend_after(&claimed, &run, AttemptOutcome::Timeout, t0());
    db.db.record(&me, &[resend]).await.unwrap();
    // The claim is at attempt 2 now: an outcome written for attempt 1 (a late duplicate of the
    // first call's answer) must not end it.
    let stale = finish(&claimed, &run, AttemptOutcome::Charged, t0());
    let report = db.db.record(&me, &[stale]).await.unwrap();
    assert_eq!(report.fenced_out, vec![claimed.invoice.id]);
    let after = invoice(&db, claimed.invoice.id).await;
    assert_eq!(after.status, InvoiceStatus::Charging);
    assert_eq!(after.attempts, 2);
    assert_eq!(db.db.outbox_backlog().await.unwrap(), 0);
}

async fn a_batch_larger_than_one_statement_is_applied_whole(db: TestDatabase) {
    // More rows than one SQLite statement takes (2,000), in one journal batch.
    let n = 2_001;
    pending_invoices(&db, n).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), n as u32).await;
    assert_eq!(claimed.len(), n);
    let batch: Vec<JournalEntry> = claimed
        .iter()
        .map(|c| finish(c, &run, AttemptOutcome::Charged, t0()))
        .collect();
    let report = db.db.record(&me, &batch).await.unwrap();
    assert!(report.fenced_out.is_empty());
    assert_eq!(
        db.db.count_by_status().await.unwrap(),
        vec![(InvoiceStatus::Paid, n as u64)]
    );
    let last = claimed.last().unwrap().invoice.id;
    let log = db.db.list_attempts(last).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, Some(AttemptOutcome::Charged));
}

/// Issue 10, window 5: the fence never repeats a value. A's call is slow; A is taken for dead
/// and B takes the claim over, then releases it unsent (its breaker refused the call), which
/// gave the attempt number back; A claims the invoice again. A's old task now asks to resend
/// at its old fence: that must be refused, not taken for a replay of a resend already applied
/// (the new claim has the number the old resend would have moved to).
async fn a_stale_owners_resend_is_fenced_out_after_its_claim_was_released_and_claimed_again(
    db: TestDatabase,
) {
    pending_invoices(&db, 1).await;
    let run = new_run(&db, "run-1", t0()).await;
    let (a, b) = (instance("worker-a"), instance("worker-b"));
    let first = claim(&db, &a, &run, t0(), 1).await.remove(0);
    db.db.retire(&a).await.unwrap();
    let taken = claim(&db, &b, &run, t0(), 1).await.remove(0);
    assert_eq!(taken.taken_over_from.as_ref(), Some(&a));
    let release = JournalEntry::Finish {
        invoice: taken.invoice.id,
        run: run.id,
        fence: taken.fence(),
        attempts: taken.invoice.attempts - 1,
        amount: taken.invoice.amount,
        at: t0(),
        attempt: AttemptEnd::Unsent(taken.attempt.as_ref().unwrap().number),
        transition: transition(
            taken.state,
            None,
            ChargeEvent::ReleasedUnsent,
            &RetryPolicy::default(),
            t0(),
        ),
        notification: None,
    };
    let report = db.db.record(&b, &[release]).await.unwrap();
    assert!(report.fenced_out.is_empty());
    let again = claim(&db, &a, &run, t0(), 1).await.remove(0);

    let stale = resend_after(&first, &run, AttemptOutcome::Timeout, t0());
    let report = db.db.record(&a, &[stale]).await.unwrap();

    assert_eq!(
        report.fenced_out,
        vec![first.invoice.id],
        "the old task must stop: its claim ended"
    );
    let now = invoice(&db, again.invoice.id).await;
    assert_eq!(now.status, InvoiceStatus::Charging);
    assert_eq!(
        now.attempts, again.invoice.attempts,
        "the new claim is untouched"
    );
}

/// Issue 10, window 3: leases on one clock. A heartbeats every 10 s (a third of the 30 s
/// lease) and last beat 10 s ago; B's clock runs 25 s ahead. Judged by B's clock, A's beat is
/// 35 s old and A's claim looks stale; judged by one clock it is 10 s old and live.
async fn an_instance_whose_clock_runs_25s_ahead_does_not_take_over_a_live_claim(db: TestDatabase) {
    pending_invoices(&db, 1).await;
    let real = Utc::now();
    let run = new_run(&db, "run-1", real).await;
    let (a, b) = (instance("worker-a"), instance("worker-b"));
    let held = claim(&db, &a, &run, real, 1).await;
    assert_eq!(held.len(), 1);
    db.age_heartbeat(&a, TimeDelta::seconds(10)).await;

    let ahead = real + TimeDelta::seconds(25);
    let taken = claim(&db, &b, &run, ahead, 1).await;

    assert!(taken.is_empty(), "B took over A's live claim: {taken:?}");
    let still = invoice(&db, held[0].invoice.id).await;
    assert_eq!(still.status, InvoiceStatus::Charging);
    // A goes silent: 30 s after its last beat, by the store's clock, B takes the claim over.
    db.age_heartbeat(&a, TimeDelta::seconds(21)).await;
    let taken = claim(&db, &b, &run, ahead, 1).await;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].taken_over_from.as_ref(), Some(&a));
}

async fn abandoned_runs_are_the_running_ones_whose_instance_went_silent(db: TestDatabase) {
    let lease = TimeDelta::seconds(30);
    let live = new_run(&db, "live", t0()).await;
    let ended = new_run(&db, "ended", t0()).await;
    db.db
        .finish_run(
            ended.id,
            &RunEnd {
                status: RunStatus::Completed,
                abort_reason: None,
                now: t0(),
            },
        )
        .await
        .unwrap();
    assert!(db.db.abandoned_runs(lease, 10).await.unwrap().is_empty());
    // Both were created by "creator"; it goes silent past the lease.
    db.age_heartbeat(&instance("creator"), TimeDelta::seconds(31))
        .await;
    assert_eq!(
        db.db.abandoned_runs(lease, 10).await.unwrap(),
        vec![live.id]
    );
    // A run whose instance row is gone (retired while the run stayed open) is abandoned too.
    db.db.retire(&instance("creator")).await.unwrap();
    assert_eq!(
        db.db.abandoned_runs(lease, 10).await.unwrap(),
        vec![live.id]
    );
    let adopted = db
        .db
        .adopt_run(live.id, &instance("adopter"), lease)
        .await
        .unwrap();
    assert!(adopted.is_some());
    assert!(db.db.abandoned_runs(lease, 10).await.unwrap().is_empty());
}

/// A monthly run (`all`) takes never-tried invoices whose due date has passed and scheduled
/// retries that are due; an hourly sweep (`retries`) only the retries. An invoice due tomorrow
/// is taken by neither.
async fn a_run_scope_decides_which_due_invoices_a_claim_takes(db: TestDatabase) {
    let ids = pending_invoices(&db, 3).await;
    let (fresh, tomorrow, retry) = (ids[0], ids[1], ids[2]);
    db.execute(&format!(
        "UPDATE invoices SET due_at = '2026-12-02 00:00:00' WHERE id = {tomorrow}; \
         UPDATE invoices SET next_attempt_at = '2026-11-30 23:00:00', attempts = 1, key_seq = 1, \
         declines = 1 WHERE id = {retry}"
    ))
    .await
    .unwrap();
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    db.db.heartbeat(&me).await.unwrap();
    let claim_scope = |scope| ClaimRequest {
        instance: me.clone(),
        run: run.id,
        now: t0(),
        limit: 10,
        lease_timeout: TimeDelta::seconds(30),
        fresh_after: None,
        include_stale: true,
        scope,
        require_customer_ref: false,
    };
    let due = |scope| db.db.backlog(t0(), &me, scope);
    assert!(due(RunScope::Retries).await.unwrap().due);
    let sweep = db.db.claim(&claim_scope(RunScope::Retries)).await.unwrap();
    assert_eq!(
        sweep.iter().map(|c| c.invoice.id).collect::<Vec<_>>(),
        vec![retry],
        "a sweep takes scheduled retries only"
    );
    assert!(!due(RunScope::Retries).await.unwrap().due);
    assert!(due(RunScope::All).await.unwrap().due, "the never-tried one");
    let monthly = db.db.claim(&claim_scope(RunScope::All)).await.unwrap();
    assert_eq!(
        monthly.iter().map(|c| c.invoice.id).collect::<Vec<_>>(),
        vec![fresh],
        "not the one due tomorrow"
    );
    assert!(!due(RunScope::All).await.unwrap().due);
    let tomorrows = db
        .db
        .claim(&ClaimRequest {
            now: t0() + TimeDelta::days(1),
            ..claim_scope(RunScope::All)
        })
        .await
        .unwrap();
    assert_eq!(tomorrows.len(), 1);
    assert_eq!(tomorrows[0].invoice.id, tomorrow);
}

async fn voiding_takes_pending_and_failed_invoices_out_of_billing_with_an_event(db: TestDatabase) {
    let ids = pending_invoices(&db, 3).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), 2).await;
    let batch = vec![finish(&claimed[0], &run, AttemptOutcome::Charged, t0())];
    db.db.record(&me, &batch).await.unwrap();
    let (paid, charging, pending) = (claimed[0].invoice.id, claimed[1].invoice.id, ids[2]);
    let backlog_before = db.db.outbox_backlog().await.unwrap();

    let VoidOutcome::Voided(voided) = db.db.void_invoice(pending, t0()).await.unwrap() else {
        panic!("a PENDING invoice is voided");
    };
    assert_eq!(voided.status, InvoiceStatus::Void);
    assert_eq!(db.db.outbox_backlog().await.unwrap(), backlog_before + 1);
    let again = db.db.void_invoice(pending, t0()).await.unwrap();
    assert!(matches!(again, VoidOutcome::AlreadyVoid(i) if i.status == InvoiceStatus::Void));
    assert_eq!(
        db.db.outbox_backlog().await.unwrap(),
        backlog_before + 1,
        "one event per invoice"
    );
    assert_eq!(
        db.db.void_invoice(paid, t0()).await.unwrap(),
        VoidOutcome::Paid
    );
    assert_eq!(
        db.db.void_invoice(charging, t0()).await.unwrap(),
        VoidOutcome::Charging
    );
    // Never claimed again, never due.
    assert!(
        claim(&db, &me, &run, t0() + TimeDelta::days(30), 10)
            .await
            .is_empty()
    );
    assert!(
        !db.db
            .backlog(t0(), &instance("other"), RunScope::All)
            .await
            .unwrap()
            .due
    );
}

/// Voids and claims of the same invoices at once: every invoice ends either VOID and never
/// claimed (no intent, no call), or claimed and its void refused; never both.
async fn a_void_racing_a_claim_is_either_applied_first_or_refused_never_both(db: TestDatabase) {
    let ids = pending_invoices(&db, 120).await;
    let run = new_run(&db, "run-1", t0()).await;
    let claimer = {
        let store = db.db.clone();
        tokio::spawn(async move {
            let me = instance("worker-a");
            store.heartbeat(&me).await.unwrap();
            let mut claimed = Vec::new();
            loop {
                let got = store
                    .claim(&ClaimRequest {
                        instance: me.clone(),
                        run: run.id,
                        now: t0(),
                        limit: 7,
                        lease_timeout: TimeDelta::seconds(30),
                        fresh_after: None,
                        include_stale: false,
                        scope: RunScope::All,
                        require_customer_ref: false,
                    })
                    .await
                    .unwrap();
                if got.is_empty() {
                    return claimed;
                }
                claimed.extend(got.into_iter().map(|c| c.invoice.id));
            }
        })
    };
    let mut voids = Vec::new();
    for id in ids.iter().rev().copied() {
        let store = db.db.clone();
        voids.push(tokio::spawn(async move {
            (id, store.void_invoice(id, t0()).await.unwrap())
        }));
    }
    let claimed: HashSet<InvoiceId> = claimer.await.unwrap().into_iter().collect();
    let mut voided = 0;
    for void in voids {
        let (id, outcome) = void.await.unwrap();
        let attempts = db.db.list_attempts(id).await.unwrap();
        match outcome {
            VoidOutcome::Voided(_) => {
                voided += 1;
                assert!(!claimed.contains(&id), "invoice {id} voided and claimed");
                assert!(attempts.is_empty(), "invoice {id} voided after an intent");
                assert_eq!(invoice(&db, id).await.status, InvoiceStatus::Void);
            }
            VoidOutcome::Charging => {
                assert!(
                    claimed.contains(&id),
                    "invoice {id}: refused but not claimed"
                );
                assert_eq!(invoice(&db, id).await.status, InvoiceStatus::Charging);
            }
            other => panic!("invoice {id}: {other:?}"),
        }
    }
    eprintln!("void race: {voided} voided, {} claimed", claimed.len());
    assert_eq!(voided + claimed.len(), ids.len());
}

async fn a_claim_that_resends_a_key_knows_when_it_was_first_sent_and_the_providers_reference(
    db: TestDatabase,
) {
    pending_invoices(&db, 1).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let first = claim(&db, &me, &run, t0(), 1).await.remove(0);
    assert_eq!(
        (first.key_first_sent_at, first.provider_ref.as_deref()),
        (None, None)
    );
    // The provider is still processing: unknown, its reference kept, retried later.
    let t = transition(
        first.state,
        None,
        ChargeEvent::Called(AttemptOutcome::Processing),
        &RetryPolicy::default(),
        t0(),
    );
    let entry = JournalEntry::Finish {
        invoice: first.invoice.id,
        run: run.id,
        fence: first.fence(),
        attempts: first.invoice.attempts,
        amount: first.invoice.amount,
        at: t0(),
        attempt: AttemptEnd::Completed(AttemptCompletion {
            number: 1,
            outcome: AttemptOutcome::Processing,
            message: None,
            decline_code: None,
            provider_ref: Some("pi_123".into()),
            finished_at: t0(),
        }),
        transition: t.clone(),
        notification: None,
    };
    db.db.record(&me, &[entry]).await.unwrap();
    let log = db.db.list_attempts(first.invoice.id).await.unwrap();
    assert_eq!(log[0].provider_ref.as_deref(), Some("pi_123"));
    assert_eq!(log[0].outcome, Some(AttemptOutcome::Processing));
    let later = t.next_attempt_at.unwrap();
    let again = claim(&db, &me, &run, later, 1).await.remove(0);
    assert_eq!(
        again.attempt.as_ref().unwrap().key,
        first.attempt.as_ref().unwrap().key
    );
    // The key's age is the store's: the instance clocks' jump from t0 to `later` is not age.
    let sent = again.key_first_sent_at.expect("sent before");
    assert!(
        (later - sent) < TimeDelta::seconds(10) && sent <= later,
        "first sent {sent}, claimed again at {later}"
    );
    assert_eq!(again.provider_ref.as_deref(), Some("pi_123"));
    // A decline's code is kept on its attempt.
    let declined = JournalEntry::Finish {
        invoice: again.invoice.id,
        run: run.id,
        fence: again.fence(),
        attempts: again.invoice.attempts,
        amount: again.invoice.amount,
        at: t0(),
        attempt: AttemptEnd::Completed(AttemptCompletion {
            number: 2,
            outcome: AttemptOutcome::Declined,
            message: None,
            decline_code: Some("card_declined".into()),
            provider_ref: Some("pi_123".into()),
            finished_at: later,
        }),
        transition: transition(
            again.state,
            again.invoice.next_attempt_at,
            ChargeEvent::Called(AttemptOutcome::Declined),
            &RetryPolicy::default(),
            later,
        ),
        notification: None,
    };
    db.db.record(&me, &[declined]).await.unwrap();
    let log = db.db.list_attempts(first.invoice.id).await.unwrap();
    assert_eq!(log[1].decline_code.as_deref(), Some("card_declined"));
}

async fn a_customer_without_a_provider_reference_is_claimed_without_an_attempt_when_one_is_needed(
    db: TestDatabase,
) {
    pending_invoices(&db, 2).await;
    db.execute("UPDATE customers SET provider_customer_ref = 'cus_1' WHERE id = 1")
        .await
        .unwrap();
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    db.db.heartbeat(&me).await.unwrap();
    let claimed = db
        .db
        .claim(&ClaimRequest {
            instance: me,
            run: run.id,
            now: t0(),
            limit: 10,
            lease_timeout: TimeDelta::seconds(30),
            fresh_after: None,
            include_stale: true,
            scope: RunScope::All,
            require_customer_ref: true,
        })
        .await
        .unwrap();
    let with_ref = claimed
        .iter()
        .find(|c| c.invoice.customer_id.get() == 1)
        .unwrap();
    let without = claimed
        .iter()
        .find(|c| c.invoice.customer_id.get() == 2)
        .unwrap();
    assert_eq!(with_ref.customer.customer_ref.as_deref(), Some("cus_1"));
    assert!(with_ref.attempt.is_some());
    assert!(
        without.attempt.is_none(),
        "nothing can be sent without a reference"
    );
    assert!(
        db.db
            .list_attempts(without.invoice.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Intent rows read back as they were written (SQLite takes a claim's intents as one JSON
/// array): a claim's instant to the microsecond and each invoice's own key over a batch of
/// 1,500, a resend's intent with its own instant, and the references a key was first sent
/// with (one holding a quote), which later calls under the key reuse even after the
/// customer's have changed.
async fn intents_keep_their_instant_and_the_references_their_key_was_first_sent_with(
    db: TestDatabase,
) {
    pending_invoices(&db, 1_500).await;
    db.execute(
        "UPDATE customers SET provider_customer_ref = 'cus_\"1\"', \
         provider_payment_method_ref = 'pm_1' WHERE id = 1",
    )
    .await
    .unwrap();
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let at = t0() + TimeDelta::microseconds(123_456);
    let claimed = claim(&db, &me, &run, at, 2_000).await;
    assert_eq!(claimed.len(), 1_500);
    for c in &claimed {
        let log = db.db.list_attempts(c.invoice.id).await.unwrap();
        assert_eq!(log.len(), 1, "one intent for invoice {}", c.invoice.id);
        assert_eq!(log[0].started_at, at);
        assert_eq!(log[0].attempt_number, 1);
        assert_eq!(log[0].run_id, Some(run.id));
        assert_eq!(log[0].instance_id, "worker-a");
        assert_eq!(log[0].idempotency_key, c.attempt.as_ref().unwrap().key);
    }
    let first = claimed
        .iter()
        .find(|c| c.invoice.customer_id.get() == 1)
        .unwrap();
    assert_eq!(first.customer.customer_ref.as_deref(), Some("cus_\"1\""));

    // A resend under the same key records an intent of its own.
    let resent_at = at + TimeDelta::milliseconds(1_500);
    let resend = resend_after(first, &run, AttemptOutcome::NetworkError, resent_at);
    let report = db.db.record(&me, &[resend]).await.unwrap();
    assert!(report.fenced_out.is_empty());
    let log = db.db.list_attempts(first.invoice.id).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(
        (
            log[1].attempt_number,
            log[1].started_at,
            &log[1].idempotency_key
        ),
        (2, resent_at, &first.attempt.as_ref().unwrap().key)
    );

    // Its outcome unknown, the claim ends; the customer's references change; the next call
    // under the key sends the ones it was first sent with.
    let unknown = transition(
        first.state,
        None,
        ChargeEvent::Called(AttemptOutcome::NetworkError),
        &RetryPolicy::default(),
        resent_at,
    );
    let later = unknown.next_attempt_at.expect("retried later");
    let entry = JournalEntry::Finish {
        invoice: first.invoice.id,
        run: run.id,
        fence: first.fence() + 1,
        attempts: first.invoice.attempts + 1,
        amount: first.invoice.amount,
        at: resent_at,
        attempt: AttemptEnd::Completed(AttemptCompletion {
            number: 2,
            outcome: AttemptOutcome::NetworkError,
            message: None,
            decline_code: None,
            provider_ref: None,
            finished_at: resent_at,
        }),
        transition: unknown,
        notification: None,
    };
    assert!(
        db.db
            .record(&me, &[entry])
            .await
            .unwrap()
            .fenced_out
            .is_empty()
    );
    db.execute(
        "UPDATE customers SET provider_customer_ref = 'cus_2', \
         provider_payment_method_ref = 'pm_2' WHERE id = 1",
    )
    .await
    .unwrap();
    let again = claim(&db, &me, &run, later, 2_000).await;
    let again = again
        .iter()
        .find(|c| c.invoice.id == first.invoice.id)
        .expect("due again");
    assert_eq!(
        again.attempt.as_ref().unwrap().key,
        first.attempt.as_ref().unwrap().key
    );
    assert_eq!(
        (
            again.customer.customer_ref.as_deref(),
            again.customer.payment_method_ref.as_deref()
        ),
        (Some("cus_\"1\""), Some("pm_1")),
        "the key's first references, not the customer's new ones"
    );
}

/// The totals the console reads never drift from the invoices and attempts they summarise:
/// seeding, charging, declining, failing, voiding, retrying and creating all move them.
async fn the_consoles_totals_follow_every_write_that_changes_them(db: TestDatabase) {
    use antaeus_core::store::{CustomerRef, InvoiceDraft, StatsStore};
    use antaeus_models::MonthlyMetric;
    use std::collections::BTreeMap;

    let ids = pending_invoices(&db, 6).await;
    let run = new_run(&db, "run-1", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(&db, &me, &run, t0(), 4).await;
    let batch = vec![
        finish(&claimed[0], &run, AttemptOutcome::Charged, t0()),
        finish(&claimed[1], &run, AttemptOutcome::Charged, t0()),
        finish(&claimed[2], &run, AttemptOutcome::Declined, t0()),
        finish(&claimed[3], &run, AttemptOutcome::CustomerNotFound, t0()),
    ];
    db.db.record(&me, &batch).await.unwrap();
    // Replaying the batch (fenced out) moves nothing.
    db.db.record(&me, &batch).await.unwrap();
    db.db.void_invoice(ids[5], t0()).await.unwrap();
    db.db
        .retry_invoice(claimed[3].invoice.id, t0())
        .await
        .unwrap();
    let customer = invoice(&db, ids[0]).await.customer_id;
    let drafts = vec![InvoiceDraft {
        customer: CustomerRef::Id(customer),
        amount: Money::from_minor(777, Currency::EUR).unwrap(),
        external_id: None,
        due_at: None,
        description: None,
    }];
    db.db.create_invoices(&drafts, t0()).await.unwrap();

    let mut expected: BTreeMap<(InvoiceStatus, Currency), (u64, i64)> = BTreeMap::new();
    for i in all_invoices(&db).await {
        let status = match i.status {
            InvoiceStatus::Charging => InvoiceStatus::Pending,
            other => other,
        };
        let entry = expected.entry((status, i.amount.currency())).or_default();
        entry.0 += 1;
        entry.1 += i.amount.to_minor();
    }
    let totals: BTreeMap<(InvoiceStatus, Currency), (u64, i64)> = db
        .db
        .invoice_totals()
        .await
        .unwrap()
        .into_iter()
        .map(|t| {
            (
                (t.status, t.amount.currency()),
                (t.invoices, i64::try_from(t.amount.minor()).unwrap()),
            )
        })
        .collect();
    assert_eq!(totals, expected);

    let month = db.db.monthly_stats(t0()).await.unwrap();
    let count = |metric| {
        month
            .iter()
            .filter(|m| m.metric == metric)
            .map(|m| m.count)
            .sum::<u64>()
    };
    assert_eq!(count(MonthlyMetric::Collected), 2);
    assert_eq!(count(MonthlyMetric::Declined), 1);
    assert_eq!(count(MonthlyMetric::Failed), 1);
    let failed = month
        .iter()
        .find(|m| m.metric == MonthlyMetric::Failed)
        .unwrap();
    assert_eq!(failed.label, "customer_not_found");
    let collected = month
        .iter()
        .find(|m| m.metric == MonthlyMetric::Collected)
        .unwrap();
    assert_eq!(collected.amount.unwrap().minor(), 2_000);
    assert!(
        db.db
            .monthly_stats(t0() + TimeDelta::days(40))
            .await
            .unwrap()
            .is_empty()
    );

    let minutes = db.db.run_stats(run.id).await.unwrap();
    let calls: u64 = minutes.iter().map(|m| m.calls).sum();
    assert_eq!(calls, 4, "every call once, even replayed");
    assert!(minutes.iter().all(|m| m.minute == t0()));
}

/// Six EUR invoices (two charged, one declined, one failed for an unknown customer, two left
/// fresh) and one fresh USD invoice, billed by one run at t0; returns the run, the claims and
/// the USD invoice.
async fn billed_for_the_console(db: &TestDatabase) -> (BillingRun, Vec<ClaimedInvoice>, InvoiceId) {
    pending_invoices(db, 6).await;
    let run = new_run(db, "console-run", t0()).await;
    let me = instance("worker-a");
    let claimed = claim(db, &me, &run, t0(), 4).await;
    let batch = vec![
        finish(&claimed[0], &run, AttemptOutcome::Charged, t0()),
        finish(&claimed[1], &run, AttemptOutcome::Declined, t0()),
        finish(&claimed[2], &run, AttemptOutcome::Charged, t0()),
        finish(&claimed[3], &run, AttemptOutcome::CustomerNotFound, t0()),
    ];
    db.db.record(&me, &batch).await.unwrap();
    let usd = db.db.insert_customers(vec![Currency::USD]).await.unwrap();
    db.db
        .insert_invoices(vec![NewInvoice {
            customer_id: usd[0].id,
            amount: Money::from_minor(500, Currency::USD).unwrap(),
            status: InvoiceStatus::Pending,
        }])
        .await
        .unwrap();
    let usd_invoice = all_invoices(db)
        .await
        .into_iter()
        .find(|i| i.amount.currency() == Currency::USD)
        .unwrap()
        .id;
    (run, claimed, usd_invoice)
}

/// Every invoice matching `filter`, read in keyset pages of `size`.
async fn listed_in_pages(
    db: &TestDatabase,
    filter: antaeus_models::InvoiceFilter,
    size: u16,
) -> Vec<InvoiceId> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = db
            .db
            .list_invoices(
                filter.clone(),
                PageRequest {
                    after,
                    limit: antaeus_models::PageLimit::new(size).unwrap(),
                },
            )
            .await
            .unwrap();
        assert!(page.len() <= usize::from(size));
        ids.extend(page.iter().map(|i| i.id));
        match page.last() {
            Some(last) if page.len() == usize::from(size) => after = Some(last.id),
            _ => return ids,
        }
    }
}

async fn the_consoles_filters_find_invoices_by_currency_reason_and_due_date_in_keyset_pages(
    db: TestDatabase,
) {
    use antaeus_models::{DueFilter, InvoiceFilter};

    let (_, claimed, usd) = billed_for_the_console(&db).await;
    let [paid_a, declined, paid_b, failed] = [0, 1, 2, 3].map(|i| claimed[i].invoice.id);
    let fresh: Vec<InvoiceId> = all_invoices(&db)
        .await
        .into_iter()
        .filter(|i| i.status == InvoiceStatus::Pending && i.attempts == 0 && i.id != usd)
        .map(|i| i.id)
        .collect();
    assert_eq!(fresh.len(), 2);
    let sorted = |mut v: Vec<InvoiceId>| {
        v.sort();
        v
    };

    let usd_only = InvoiceFilter {
        currency: Some(Currency::USD),
        ..InvoiceFilter::default()
    };
    assert_eq!(listed_in_pages(&db, usd_only, 1).await, [usd]);

    let not_found = InvoiceFilter {
        failure_reason: Some(FailureReason::CustomerNotFound),
        ..InvoiceFilter::default()
    };
    assert_eq!(listed_in_pages(&db, not_found, 2).await, [failed]);

    let due_eur = InvoiceFilter {
        currency: Some(Currency::EUR),
        due: Some(DueFilter::DueAt(t0())),
        ..InvoiceFilter::default()
    };
    assert_eq!(
        listed_in_pages(&db, due_eur, 1).await,
        fresh,
        "a declined invoice is not due before its retry"
    );
    let declined_at = invoice(&db, declined).await.next_attempt_at.unwrap();
    let due_later = InvoiceFilter {
        due: Some(DueFilter::DueAt(declined_at)),
        status: Some(InvoiceStatus::Pending),
        ..InvoiceFilter::default()
    };
    assert!(listed_in_pages(&db, due_later, 3).await.contains(&declined));

    let overdue = InvoiceFilter {
        due: Some(DueFilter::OverdueAt(t0())),
        ..InvoiceFilter::default()
    };
    let mut expected = fresh.clone();
    expected.extend([declined, failed, usd]);
    assert_eq!(
        listed_in_pages(&db, overdue.clone(), 2).await,
        sorted(expected),
        "unpaid and past due: PENDING and FAILED, never PAID"
    );
    let paid = [paid_a, paid_b];
    assert!(
        listed_in_pages(&db, overdue, 1)
            .await
            .iter()
            .all(|id| !paid.contains(id))
    );
    let windowed = InvoiceFilter {
        due: Some(DueFilter::OverdueAt(t0())),
        up_to: Some(failed),
        ..InvoiceFilter::default()
    };
    let mut expected: Vec<InvoiceId> = listed_in_pages(&db, overdue_again(), 10)
        .await
        .into_iter()
        .filter(|id| *id <= failed)
        .collect();
    expected.sort();
    assert_eq!(
        listed_in_pages(&db, windowed, 1).await,
        expected,
        "a window of ids bounds the scan"
    );
    let before_everything = InvoiceFilter {
        due: Some(DueFilter::OverdueAt(DateTime::UNIX_EPOCH)),
        ..InvoiceFilter::default()
    };
    assert!(listed_in_pages(&db, before_everything, 5).await.is_empty());
}

fn overdue_again() -> antaeus_models::InvoiceFilter {
    antaeus_models::InvoiceFilter {
        due: Some(antaeus_models::DueFilter::OverdueAt(t0())),
        ..Default::default()
    }
}

async fn a_runs_problem_calls_and_an_invoices_events_are_read_in_bounded_pages(db: TestDatabase) {
    use antaeus_core::store::ConsoleStore;

    let (run, claimed, _) = billed_for_the_console(&db).await;
    let problems = db.db.run_problems(run.id, None, 10).await.unwrap();
    let shown: Vec<(InvoiceId, Option<AttemptOutcome>)> = problems
        .iter()
        .map(|p| (p.attempt.invoice_id, p.attempt.outcome))
        .collect();
    assert_eq!(
        shown,
        [
            (claimed[1].invoice.id, Some(AttemptOutcome::Declined)),
            (
                claimed[3].invoice.id,
                Some(AttemptOutcome::CustomerNotFound)
            ),
        ],
        "the calls that did not charge, in the order they were made"
    );
    let first = db.db.run_problems(run.id, None, 1).await.unwrap();
    assert_eq!(first, problems[..1]);
    let rest = db
        .db
        .run_problems(run.id, Some(first[0].cursor), 1)
        .await
        .unwrap();
    assert_eq!(rest, problems[1..]);
    let other_run = new_run(&db, "another-run", t0()).await;
    assert!(
        db.db
            .run_problems(other_run.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let declined = claimed[1].invoice.id;
    let events = db.db.invoice_events(declined, 10).await.unwrap();
    assert!(
        !events.is_empty(),
        "a decline is an event about the invoice"
    );
    for event in &events {
        assert!(
            event
                .payload
                .contains(&format!("\"invoice\":{{\"id\":{declined},")),
            "{}",
            event.payload
        );
    }
    db.db.void_invoice(declined, t0()).await.unwrap();
    let events = db.db.invoice_events(declined, 10).await.unwrap();
    assert_eq!(
        events.last().unwrap().kind,
        "invoice.voided",
        "oldest first"
    );
    let newest = db.db.invoice_events(declined, 1).await.unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].kind, "invoice.voided", "the newest when limited");
    assert!(
        db.db
            .invoice_events(claimed[2].invoice.id, 10)
            .await
            .unwrap()
            .iter()
            .all(|e| !e.payload.contains(&format!("\"id\":{declined},")))
    );
}
