//! The payment's life after the call, stored, on SQLite and PostgreSQL: the deployment id in
//! charge keys, settling writes fenced on the invoice as read with their provider event handled
//! once, and refunds that never take more than was paid.

mod common;

use std::sync::Arc;

use antaeus_core::billing::{ChargeEvent, RetryPolicy, transition};
use antaeus_core::store::{
    AttemptCompletion, AttemptEnd, BillingStore, ClaimRequest, ClaimedInvoice, HandledEvent,
    InstanceStore, InvoiceChange, InvoiceStore, JournalEntry, NewRefund, NewRun, PaymentStore,
    PaymentWrite, PaymentWriteOutcome, RefundStart, RefundStore, RunStore, StatsStore,
};
use antaeus_data::testing::TestDatabase;
use antaeus_data::{Database, NewInvoice, PoolOptions};
use antaeus_models::{
    AttemptOutcome, BillingRun, Currency, IdempotencyKey, InstanceId, InvoiceId, InvoiceStatus,
    Money, RunScope, RunTrigger,
};
use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

on_every_backend!(
    a_renewed_deployment_id_names_new_keys_and_keys_in_flight_keep_theirs,
    a_settling_write_is_fenced_on_the_invoice_as_read_and_its_event_is_handled_once,
    refunds_asked_at_once_never_take_more_than_was_paid,
);

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

/// `n` PENDING invoices of 10.00 EUR; their ids.
async fn invoices(db: &Database, n: usize) -> Vec<InvoiceId> {
    let customers = db.insert_customers(vec![Currency::EUR; n]).await.unwrap();
    let rows = customers
        .iter()
        .map(|c| NewInvoice {
            customer_id: c.id,
            amount: Money::from_minor(1_000, Currency::EUR).unwrap(),
            status: InvoiceStatus::Pending,
        })
        .collect();
    db.insert_invoices(rows).await.unwrap();
    db.list_invoices(Default::default(), Default::default())
        .await
        .unwrap()
        .iter()
        .map(|i| i.id)
        .collect()
}

async fn run(db: &Database, key: &str) -> BillingRun {
    db.create_run(&NewRun {
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
        trigger: RunTrigger::Cli,
        instance: InstanceId::parse("creator").unwrap(),
        now: t0(),
        request_fingerprint: "scope=all".into(),
        scope: RunScope::All,
    })
    .await
    .unwrap()
    .0
}

async fn claim(db: &Database, run: &BillingRun, now: DateTime<Utc>) -> Vec<ClaimedInvoice> {
    let me = InstanceId::parse("worker").unwrap();
    db.heartbeat(&me).await.unwrap();
    db.claim(&ClaimRequest {
        instance: me,
        run: run.id,
        now,
        limit: 100,
        lease_timeout: TimeDelta::seconds(30),
        fresh_after: None,
        include_stale: false,
        scope: RunScope::All,
        require_customer_ref: false,
    })
    .await
    .unwrap()
}

/// Ends `claimed`'s call with `outcome` (and the provider's reference `payment`).
async fn finish(
    db: &Database,
    run: &BillingRun,
    claimed: &ClaimedInvoice,
    event: ChargeEvent,
    outcome: AttemptOutcome,
    payment: Option<&str>,
) {
    let me = InstanceId::parse("worker").unwrap();
    let t = transition(claimed.state, None, event, &RetryPolicy::default(), t0());
    let entry = JournalEntry::Finish {
        invoice: claimed.invoice.id,
        run: run.id,
        fence: claimed.fence(),
        attempts: claimed.invoice.attempts,
        amount: claimed.invoice.amount,
        at: t0(),
        attempt: AttemptEnd::Completed(AttemptCompletion {
            number: claimed.invoice.attempts,
            outcome,
            message: None,
            decline_code: None,
            provider_ref: payment.map(Into::into),
            finished_at: t0(),
        }),
        transition: t,
        notification: None,
    };
    let report = db.record(&me, &[entry]).await.unwrap();
    assert!(report.fenced_out.is_empty());
}

async fn reopen(test_db: &TestDatabase) -> Database {
    let db = Database::connect(&test_db.url, PoolOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db
}

async fn a_renewed_deployment_id_names_new_keys_and_keys_in_flight_keep_theirs(
    test_db: TestDatabase,
) {
    let db = test_db.db.clone();
    let mut ids = invoices(&db, 1).await;
    let first = db.deployment_id().await.unwrap();
    assert!(
        first.len() == 12 && first.bytes().all(|b| b.is_ascii_hexdigit()),
        "{first}"
    );
    let run1 = run(&db, "run-1").await;
    // The invoice is sent; its answer is lost.
    let claimed = claim(&db, &run1, t0()).await;
    assert!(
        claimed[0]
            .attempt
            .as_ref()
            .unwrap()
            .key
            .as_str()
            .starts_with(&format!("antaeus-{first}-"))
    );
    finish(
        &db,
        &run1,
        &claimed[0],
        ChargeEvent::Called(AttemptOutcome::Timeout),
        AttemptOutcome::Timeout,
        None,
    )
    .await;
    // A copy restored beside the original gets an id of its own.
    let renewed = db.renew_deployment_id().await.unwrap();
    assert_ne!(renewed, first);
    let db = reopen(&test_db).await;
    assert_eq!(db.deployment_id().await.unwrap(), renewed);
    // An invoice never sent yet.
    let more = invoices(&db, 1).await;
    ids.push(*more.last().unwrap());
    let run2 = run(&db, "run-2").await;
    let again = claim(&db, &run2, t0() + TimeDelta::hours(1)).await;
    let key_of = |id: InvoiceId| {
        again
            .iter()
            .find(|c| c.invoice.id == id)
            .and_then(|c| c.attempt.as_ref())
            .map(|a| a.key.to_string())
            .unwrap()
    };
    assert!(
        key_of(ids[0]).starts_with(&format!("antaeus-{first}-")),
        "a key in flight keeps the deployment it was sent in: {}",
        key_of(ids[0])
    );
    assert_eq!(
        again
            .iter()
            .find(|c| c.invoice.id == ids[0])
            .unwrap()
            .namespace
            .as_deref(),
        Some(first.as_str())
    );
    assert!(
        key_of(ids[1]).starts_with(&format!("antaeus-{renewed}-")),
        "a key not sent yet is the new deployment's: {}",
        key_of(ids[1])
    );
}

async fn a_settling_write_is_fenced_on_the_invoice_as_read_and_its_event_is_handled_once(
    test_db: TestDatabase,
) {
    let db = test_db.db.clone();
    let ids = invoices(&db, 1).await;
    let run1 = run(&db, "run-1").await;
    let claimed = claim(&db, &run1, t0()).await.remove(0);
    // The customer must authenticate: the PaymentIntent waits for them.
    finish(
        &db,
        &run1,
        &claimed,
        ChargeEvent::DeclinedActionRequired,
        AttemptOutcome::Declined,
        Some("pi_1"),
    )
    .await;
    let view = db.payment_view(ids[0]).await.unwrap().unwrap();
    assert_eq!(view.open_intent.as_deref(), Some("pi_1"));
    assert_eq!(view.keys.len(), 1);
    assert_eq!(db.invoice_of_payment("pi_1").await.unwrap(), Some(ids[0]));
    let paid = transition(
        view.state,
        view.invoice.next_attempt_at,
        ChargeEvent::Called(AttemptOutcome::Charged),
        &RetryPolicy::default(),
        t0(),
    );
    let write = |event: &str, fence: u32| PaymentWrite {
        event: Some(HandledEvent {
            id: event.into(),
            kind: "payment_intent.succeeded".into(),
            outcome: "paid".into(),
        }),
        invoice: ids[0],
        expected_status: InvoiceStatus::Pending,
        expected_fence: fence,
        change: InvoiceChange::Move {
            transition: paid.clone(),
            payment: "pi_1".into(),
        },
        attempt: None,
        notification: None,
        at: t0(),
    };
    // Read before a claim that moved the fence: rolled back whole, the event not recorded.
    assert_eq!(
        db.write_payment(&write("evt_1", view.fence + 7))
            .await
            .unwrap(),
        PaymentWriteOutcome::Conflict
    );
    assert_eq!(
        db.payment_view(ids[0])
            .await
            .unwrap()
            .unwrap()
            .invoice
            .status,
        InvoiceStatus::Pending
    );
    assert_eq!(
        db.write_payment(&write("evt_1", view.fence)).await.unwrap(),
        PaymentWriteOutcome::Applied
    );
    assert_eq!(
        db.write_payment(&write("evt_1", view.fence)).await.unwrap(),
        PaymentWriteOutcome::AlreadyHandled
    );
    let after = db.payment_view(ids[0]).await.unwrap().unwrap();
    assert_eq!(after.invoice.status, InvoiceStatus::Paid);
    assert_eq!(after.invoice.next_attempt_at, None);
    assert_eq!(after.open_intent, None, "nothing waits any more");
    assert_eq!(after.payment_ref.as_deref(), Some("pi_1"));
    assert_eq!(db.open_payments(None, 10).await.unwrap(), vec![]);
    let totals = db.invoice_totals().await.unwrap();
    let paid_total = totals
        .iter()
        .find(|t| t.status == InvoiceStatus::Paid)
        .map(|t| t.invoices);
    assert_eq!(paid_total, Some(1), "{totals:?}");
}

async fn refunds_asked_at_once_never_take_more_than_was_paid(test_db: TestDatabase) {
    let db = test_db.db.clone();
    let ids = invoices(&db, 1).await;
    let id = ids[0];
    let run1 = run(&db, "run-1").await;
    let claimed = claim(&db, &run1, t0()).await.remove(0);
    finish(
        &db,
        &run1,
        &claimed,
        ChargeEvent::Called(AttemptOutcome::Charged),
        AttemptOutcome::Charged,
        Some("pi_1"),
    )
    .await;
    // Ten refunds of 3.00 of a 10.00 invoice, all at once: three fit.
    let db = Arc::new(db);
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                db.begin_refund(&NewRefund {
                    invoice: id,
                    amount: Some(Decimal::new(300, 2)),
                    reason: None,
                    request: None,
                    at: t0(),
                })
                .await
                .unwrap()
            })
        })
        .collect();
    let mut started = 0;
    for task in tasks {
        match task.await.unwrap() {
            RefundStart::Started(to_send) => {
                assert_eq!(to_send.payment_ref, "pi_1");
                started += 1;
            }
            RefundStart::Exceeds { left, .. } => assert!(left.to_minor() < 300, "{left}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(started, 3, "3 x 3.00 of 10.00");
    let refunds = db.list_refunds(ids[0]).await.unwrap();
    assert_eq!(refunds.len(), 3);
    let keys: std::collections::HashSet<_> = refunds.iter().map(|r| &r.provider_key).collect();
    assert_eq!(keys.len(), 3, "each refund has its own key");
}
