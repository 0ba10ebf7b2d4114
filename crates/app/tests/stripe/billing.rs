//! Billing runs through the Stripe adapter against the Stripe-shaped server, on real storage:
//! what each kind of customer ends as, what the attempts and events say, a customer without a
//! Stripe reference, and a processing charge settled by a later run under the same key.

use std::sync::Arc;
use std::time::Duration;

use antaeus_app::provider::StripePaymentProvider;
use antaeus_core::store::{AttemptStore, CustomerChanges, CustomerStore, InvoiceStore};
use antaeus_core::{Clock, ManualClock, Shutdown};
use antaeus_data::Backend;
use antaeus_models::{AttemptOutcome, FailureReason, InvoiceStatus, RunStatus};
use chrono::TimeDelta;

use crate::billing_tests;
use crate::fake_stripe::{Card, FakeStripe};
use crate::helpers::{
    all_events, assert_invariants, billing, refs, run_request, seed, stripe_config, t0,
};

billing_tests!(
    each_stripe_answer_ends_its_invoice_as_the_table_says,
    a_processing_charge_is_settled_by_a_later_run_under_the_same_key,
);

async fn each_stripe_answer_ends_its_invoice_as_the_table_says(backend: Backend) {
    let Some(test_db) = antaeus_data::testing::TestDatabase::new(backend).await else {
        return;
    };
    let db = test_db.db.clone();
    let clock = Arc::new(ManualClock::new(t0()));
    let fake = FakeStripe::start(clock.clone());
    fake.add_customer("cus_ok", Card::Succeeds);
    fake.add_customer("cus_poor", Card::Declines("insufficient_funds"));
    fake.add_customer("cus_sca", Card::NeedsAuthentication);
    let customers = seed(
        &db,
        &[
            refs(Some("cus_ok"), Some("pm_card")),
            refs(Some("cus_poor"), None),
            refs(Some("cus_sca"), None),
            refs(Some("cus_nobody"), Some("pm_card")),
            refs(None, None),
        ],
    )
    .await;
    let stripe = StripePaymentProvider::with_clock(
        &stripe_config(&fake.url, Duration::from_secs(5)),
        clock.clone(),
    )
    .unwrap();
    let service = billing(&db, Arc::new(stripe), clock.clone(), true, "stripe-e2e");
    let run = service
        .bill(&run_request("stripe-1"), Shutdown::never())
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    assert_invariants(&db, |i| fake.charges_of(i)).await;

    let invoice = |n: usize| customers[n].id;
    let invoices = crate::helpers::all_invoices(&db).await;
    let of = |n: usize| {
        invoices
            .iter()
            .find(|i| i.customer_id == invoice(n))
            .unwrap()
            .clone()
    };
    let attempts = |id| {
        let db = db.clone();
        async move { db.list_attempts(id).await.unwrap() }
    };

    let paid = of(0);
    assert_eq!(paid.status, InvoiceStatus::Paid);
    let paid_attempts = attempts(paid.id).await;
    let pi = paid_attempts[0].provider_ref.clone().unwrap();
    assert_eq!(fake.intent_status(&pi), Some("succeeded"));

    let poor = of(1);
    assert_eq!(
        poor.status,
        InvoiceStatus::Pending,
        "into the dunning schedule"
    );
    assert!(
        poor.next_attempt_at
            .is_some_and(|at| at >= t0() + TimeDelta::hours(23))
    );
    let poor_attempts = attempts(poor.id).await;
    assert_eq!(poor_attempts[0].outcome, Some(AttemptOutcome::Declined));
    assert_eq!(
        poor_attempts[0].decline_code.as_deref(),
        Some("insufficient_funds")
    );

    let sca = of(2);
    assert_eq!(sca.status, InvoiceStatus::Pending);
    assert_eq!(
        attempts(sca.id).await[0].decline_code.as_deref(),
        Some("authentication_required")
    );

    let nobody = of(3);
    assert_eq!(nobody.status, InvoiceStatus::Failed);
    assert_eq!(nobody.failure_reason, Some(FailureReason::CustomerNotFound));

    let no_ref = of(4);
    assert_eq!(no_ref.status, InvoiceStatus::Failed);
    assert_eq!(no_ref.failure_reason, Some(FailureReason::NoPaymentMethod));
    assert!(
        attempts(no_ref.id).await.is_empty(),
        "nothing sent to Stripe"
    );

    let events = all_events(&db).await;
    let event = |kind: &str, needle: &str| {
        events
            .iter()
            .any(|e| e.kind == kind && e.payload.contains(needle))
    };
    assert!(event("invoice.paid", &pi), "{events:#?}");
    assert!(
        event("invoice.charge_declined", "insufficient_funds"),
        "{events:#?}"
    );
    assert!(
        event("invoice.payment_action_required", "authentication_required"),
        "{events:#?}"
    );

    // The customer gets a Stripe reference; a manual retry charges the invoice.
    fake.add_customer("cus_late", Card::Succeeds);
    let changes = CustomerChanges {
        provider_customer_ref: Some(Some("cus_late".into())),
        ..CustomerChanges::default()
    };
    db.update_customer(customers[4].id, &changes).await.unwrap();
    db.retry_invoice(no_ref.id, clock.now()).await.unwrap();
    service
        .bill(&run_request("stripe-2"), Shutdown::never())
        .await
        .unwrap();
    let after = db.fetch_invoice(no_ref.id).await.unwrap().unwrap();
    assert_eq!(after.status, InvoiceStatus::Paid, "{after:?}");
    assert_invariants(&db, |i| fake.charges_of(i)).await;
}

async fn a_processing_charge_is_settled_by_a_later_run_under_the_same_key(backend: Backend) {
    let Some(test_db) = antaeus_data::testing::TestDatabase::new(backend).await else {
        return;
    };
    let db = test_db.db.clone();
    let clock = Arc::new(ManualClock::new(t0()));
    let fake = FakeStripe::start(clock.clone());
    fake.add_customer("cus_sepa", Card::ProcessesFor(2));
    seed(&db, &[refs(Some("cus_sepa"), None)]).await;
    let stripe = StripePaymentProvider::with_clock(
        &stripe_config(&fake.url, Duration::from_secs(5)),
        clock.clone(),
    )
    .unwrap();
    let service = billing(
        &db,
        Arc::new(stripe),
        clock.clone(),
        true,
        "stripe-processing",
    );
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 5, "never settled");
        service
            .bill(
                &run_request(&format!("processing-{runs}")),
                Shutdown::never(),
            )
            .await
            .unwrap();
        let census = assert_invariants(&db, |i| fake.charges_of(i)).await;
        if census.unknown == 0 {
            break;
        }
        clock.advance(TimeDelta::hours(1));
    }
    let invoice = crate::helpers::all_invoices(&db).await.remove(0);
    assert_eq!(invoice.status, InvoiceStatus::Paid);
    let log = db.list_attempts(invoice.id).await.unwrap();
    assert_eq!(log[0].outcome, Some(AttemptOutcome::Processing));
    assert_eq!(log[0].provider_ref.as_deref(), Some("pi_000001"));
    assert!(
        log.iter()
            .all(|a| a.idempotency_key == log[0].idempotency_key),
        "{log:?}"
    );
    assert_eq!(
        fake.requests("create"),
        1,
        "asked about, never created again: {log:?}"
    );
    assert_eq!(fake.charges_of(invoice.id.get()), 1);
}
