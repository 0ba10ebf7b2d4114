//! A payment's life after the call, through the engine and the Stripe adapter against the
//! Stripe-shaped server, on real storage: PaymentIntents left waiting for the customer, keys
//! resent after the customer's references changed, amounts Stripe refuses, a revoked key, a
//! slow pace, and the age of a key judged by the store's clock. Each test is named after the
//! failure it closes.

use std::sync::Arc;
use std::time::Duration;

use antaeus_app::provider::{RateLimit, RateLimitedProvider, StripePaymentProvider};
use antaeus_core::billing::{BillingService, RetryPolicy};
use antaeus_core::service::{PaymentEventDeps, PaymentEventService, RefundService};
use antaeus_core::store::{AttemptStore, CustomerChanges, CustomerStore, InvoiceStore};
use antaeus_core::{Clock, ManualClock, PaymentProvider, Shutdown};
use antaeus_data::testing::TestDatabase;
use antaeus_data::{Backend, Database};
use antaeus_models::{
    AttemptOutcome, BillingRun, FailureReason, Invoice, InvoiceStatus, ProviderRefs, RunStatus,
};
use chrono::TimeDelta;
use serde_json::Value;

use crate::billing_tests;
use crate::fake_stripe::{Card, FakeStripe, Fault};
use crate::helpers::{
    all_events, all_invoices, assert_invariants, billing, billing_configured, refs, run_request,
    seed, stripe_config, t0,
};

billing_tests!(
    a_retry_after_the_customer_completed_the_waiting_intent_is_paid_by_it_without_a_second_intent,
    an_abandoned_intent_is_cancelled_before_the_retry_makes_another,
    a_resend_after_the_payment_method_changed_sends_the_first_request_and_is_paid,
    an_unknown_outcome_is_never_failed_for_a_reference_removed_since,
    an_amount_stripe_refuses_fails_once_and_is_never_sent_again,
    a_revoked_key_stops_the_run_at_once_and_changes_no_invoice,
    a_slow_pace_never_times_calls_out_before_they_are_sent,
    a_key_first_sent_by_a_host_whose_clock_ran_ahead_is_looked_up_after_a_day,
    a_payment_completed_while_its_webhook_was_lost_is_learnt_by_reconciliation,
    a_void_is_refused_while_the_customer_may_still_complete_the_payment,
    two_deployments_on_one_stripe_account_each_charge_their_own_invoices_once,
    a_refund_whose_answer_was_lost_is_asked_again_under_its_key_and_refunds_once,
);

/// A database, a test clock and the Stripe-shaped server.
struct Stage {
    _db: TestDatabase,
    db: Database,
    clock: Arc<ManualClock>,
    fake: FakeStripe,
}

impl Stage {
    async fn new(backend: Backend) -> Option<Self> {
        let test_db = TestDatabase::new(backend).await?;
        let clock = Arc::new(ManualClock::new(t0()));
        let fake = FakeStripe::start(clock.clone());
        Some(Self {
            db: test_db.db.clone(),
            _db: test_db,
            clock,
            fake,
        })
    }

    /// The Stripe adapter on the fake, judging key ages by `clock`.
    fn stripe(&self, clock: Arc<dyn Clock>, timeout: Duration) -> StripePaymentProvider {
        StripePaymentProvider::with_clock(&stripe_config(&self.fake.url, timeout), clock).unwrap()
    }

    /// Billing through the Stripe adapter, on the stage's clock.
    fn service(&self) -> BillingService {
        let stripe = self.stripe(self.clock.clone(), Duration::from_secs(5));
        billing(
            &self.db,
            Arc::new(stripe),
            self.clock.clone(),
            true,
            "lifecycle",
        )
    }

    /// Billing whose one call per invoice loses Stripe's answer (Stripe charges; the answer
    /// comes after the client gave up): the outcome is left unknown, for a later run.
    fn losing_the_answer(&self, clock: Arc<ManualClock>) -> BillingService {
        self.fake
            .fault_next(Fault::SlowAnswer(Duration::from_secs(2)));
        let stripe = self.stripe(clock.clone(), Duration::from_millis(300));
        billing_configured(&self.db, Arc::new(stripe), clock, "lossy", |config| {
            config.resend.tries = 1;
        })
    }

    async fn bill(&self, service: &BillingService, key: &str) -> BillingRun {
        service
            .bill(&run_request(key), Shutdown::never())
            .await
            .unwrap()
    }

    async fn invoice(&self, n: usize) -> Invoice {
        all_invoices(&self.db).await.remove(n)
    }

    /// Makes the invoice due now, as an operator's retry (or the dunning step's arrival) does.
    async fn retry(&self, invoice: &Invoice) {
        self.db
            .retry_invoice(invoice.id, self.clock.now())
            .await
            .unwrap();
    }
}

async fn a_retry_after_the_customer_completed_the_waiting_intent_is_paid_by_it_without_a_second_intent(
    backend: Backend,
) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_3ds", Card::LeftRequiringAction);
    seed(&s.db, &[refs(Some("cus_3ds"), None)]).await;
    let service = s.service();
    s.bill(&service, "sca-1").await;
    let invoice = s.invoice(0).await;
    assert_eq!(invoice.status, InvoiceStatus::Pending, "{invoice:?}");
    let first = s.fake.intents_of(invoice.id.get());
    assert_eq!(first.len(), 1);
    let pi = first[0].id.clone();
    // The SaaS is told which PaymentIntent to bring the customer back to.
    let events = all_events(&s.db).await;
    let told = events
        .iter()
        .find(|e| e.kind == "invoice.payment_action_required")
        .expect("the customer is asked to act");
    let payload: Value = serde_json::from_str(&told.payload).unwrap();
    assert_eq!(payload["data"]["invoice"]["paymentIntentId"], pi.as_str());

    // The customer authenticates, as Stripe tells merchants to have them do.
    s.fake.complete(&pi);
    // The dunning retry comes: the intent the customer completed is the payment.
    s.retry(&invoice).await;
    s.bill(&service, "sca-2").await;
    let after = s.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(after.status, InvoiceStatus::Paid, "{after:?}");
    let intents = s.fake.intents_of(invoice.id.get());
    assert_eq!(intents.len(), 1, "no second PaymentIntent: {intents:?}");
    assert_eq!(s.fake.charges_of(invoice.id.get()), 1);
    let log = s.db.list_attempts(invoice.id).await.unwrap();
    assert_eq!(
        log.last().unwrap().provider_ref.as_deref(),
        Some(pi.as_str())
    );
    assert_invariants(&s.db, |i| s.fake.charges_of(i)).await;
}

async fn an_abandoned_intent_is_cancelled_before_the_retry_makes_another(backend: Backend) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_3ds", Card::LeftRequiringAction);
    seed(&s.db, &[refs(Some("cus_3ds"), None)]).await;
    let service = s.service();
    s.bill(&service, "abandoned-1").await;
    let invoice = s.invoice(0).await;
    // The customer never comes back; the retry makes a new PaymentIntent, and the first can
    // no longer be completed: one invoice, never two payments that could both go through.
    s.retry(&invoice).await;
    s.bill(&service, "abandoned-2").await;
    let intents = s.fake.intents_of(invoice.id.get());
    assert_eq!(intents.len(), 2, "{intents:?}");
    assert_eq!(intents[0].status, "canceled", "{intents:?}");
    assert_eq!(intents[1].status, "requires_action", "{intents:?}");
    assert_eq!(s.fake.requests("cancel"), 1);
    let after = s.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(after.status, InvoiceStatus::Pending);
    assert_invariants(&s.db, |i| s.fake.charges_of(i)).await;
}

async fn a_resend_after_the_payment_method_changed_sends_the_first_request_and_is_paid(
    backend: Backend,
) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_ok", Card::Succeeds);
    let customers = seed(&s.db, &[refs(Some("cus_ok"), Some("pm_old"))]).await;
    // Charged, but the answer is lost: the outcome is unknown.
    let lossy = s.losing_the_answer(s.clock.clone());
    s.bill(&lossy, "changed-1").await;
    let invoice = s.invoice(0).await;
    assert_eq!(s.fake.charges_of(invoice.id.get()), 1, "Stripe charged");
    assert_eq!(invoice.status, InvoiceStatus::Pending);
    // Meanwhile the customer's card is replaced.
    let changes = CustomerChanges {
        provider_payment_method_ref: Some(Some("pm_new".into())),
        ..CustomerChanges::default()
    };
    s.db.update_customer(customers[0].id, &changes)
        .await
        .unwrap();
    s.clock.advance(TimeDelta::hours(1));
    s.bill(&s.service(), "changed-2").await;
    let after = s.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(after.status, InvoiceStatus::Paid, "{after:?}");
    assert_eq!(s.fake.charges_of(invoice.id.get()), 1);
    assert_eq!(
        s.fake.requests("search"),
        0,
        "the resend was the first request, replayed"
    );
    assert_invariants(&s.db, |i| s.fake.charges_of(i)).await;
}

async fn an_unknown_outcome_is_never_failed_for_a_reference_removed_since(backend: Backend) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_ok", Card::Succeeds);
    let customers = seed(&s.db, &[refs(Some("cus_ok"), Some("pm_card"))]).await;
    let lossy = s.losing_the_answer(s.clock.clone());
    s.bill(&lossy, "removed-1").await;
    let invoice = s.invoice(0).await;
    assert_eq!(s.fake.charges_of(invoice.id.get()), 1, "Stripe charged");
    assert_eq!(
        invoice.status,
        InvoiceStatus::Pending,
        "the answer was lost"
    );
    // The customer's references are removed (an import, a PATCH) while the outcome is unknown.
    let changes = CustomerChanges {
        provider_customer_ref: Some(None),
        provider_payment_method_ref: Some(None),
        ..CustomerChanges::default()
    };
    s.db.update_customer(customers[0].id, &changes)
        .await
        .unwrap();
    s.clock.advance(TimeDelta::hours(1));
    s.bill(&s.service(), "removed-2").await;
    let after = s.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(
        after.status,
        InvoiceStatus::Paid,
        "resent as first sent: {after:?}"
    );
    assert_invariants(&s.db, |i| s.fake.charges_of(i)).await;
}

async fn an_amount_stripe_refuses_fails_once_and_is_never_sent_again(backend: Backend) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_ok", Card::Succeeds);
    let customers = seed(&s.db, &[refs(Some("cus_ok"), Some("pm_card"))]).await;
    // 0.10 EUR: under Stripe's 0.50 EUR minimum.
    let tiny = antaeus_data::NewInvoice {
        customer_id: customers[0].id,
        amount: antaeus_models::Money::from_minor(10, antaeus_models::Currency::EUR).unwrap(),
        status: InvoiceStatus::Pending,
    };
    s.db.insert_invoices(vec![tiny]).await.unwrap();
    let service = s.service();
    s.bill(&service, "tiny-1").await;
    let invoices = all_invoices(&s.db).await;
    let refused = invoices.iter().find(|i| i.amount.to_minor() == 10).unwrap();
    assert_eq!(refused.status, InvoiceStatus::Failed, "{refused:?}");
    assert_eq!(
        refused.failure_reason,
        Some(FailureReason::AmountNotChargeable)
    );
    let creates = s.fake.requests("create");
    for n in 2..=4 {
        s.clock.advance(TimeDelta::days(2));
        s.bill(&service, &format!("tiny-{n}")).await;
    }
    assert_eq!(s.fake.requests("create"), creates, "never sent again");
    let events = all_events(&s.db).await;
    assert!(
        events
            .iter()
            .any(|e| e.kind == "invoice.charge_failed"
                && e.payload.contains("amount_not_chargeable")),
        "{events:#?}"
    );
}

async fn a_revoked_key_stops_the_run_at_once_and_changes_no_invoice(backend: Backend) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_ok", Card::Succeeds);
    let many: Vec<ProviderRefs> = (0..40)
        .map(|_| refs(Some("cus_ok"), Some("pm_card")))
        .collect();
    seed(&s.db, &many).await;
    let revoked = StripePaymentProvider::with_clock(
        &antaeus_app::provider::StripeConfig {
            secret_key: "sk_live_revoked".into(),
            ..stripe_config(&s.fake.url, Duration::from_secs(5))
        },
        s.clock.clone(),
    )
    .unwrap();
    let service = billing(&s.db, Arc::new(revoked), s.clock.clone(), true, "revoked");
    let before = all_invoices(&s.db).await;
    let run = s.bill(&service, "revoked-1").await;
    assert_eq!(run.status, RunStatus::Aborted, "{run:?}");
    let reason = run.abort_reason.clone().unwrap_or_default();
    assert!(
        reason.contains("ANTAEUS_STRIPE_SECRET_KEY") && !reason.contains("sk_live_revoked"),
        "{reason}"
    );
    let after = all_invoices(&s.db).await;
    let mut calls = 0;
    for (was, now) in before.iter().zip(&after) {
        assert_eq!(now.status, InvoiceStatus::Pending, "{now:?}");
        assert_eq!(now.next_attempt_at, was.next_attempt_at, "{now:?}");
        let log = s.db.list_attempts(now.id).await.unwrap();
        // The calls that were made are recorded, and say why.
        for call in &log {
            assert_eq!(
                call.outcome,
                Some(AttemptOutcome::ProtocolError),
                "{call:?}"
            );
        }
        calls += log.len();
    }
    assert!(
        calls <= 32,
        "{calls} of 40 invoices sent: nothing more after the first 401"
    );
    // Once the key is fixed, the next run charges them all, once.
    s.bill(&s.service(), "revoked-2").await;
    let census = assert_invariants(&s.db, |i| s.fake.charges_of(i)).await;
    assert_eq!(census.by_status[&InvoiceStatus::Paid], 40, "{census:?}");
}

async fn a_slow_pace_never_times_calls_out_before_they_are_sent(backend: Backend) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_ok", Card::Succeeds);
    let many: Vec<ProviderRefs> = (0..24)
        .map(|_| refs(Some("cus_ok"), Some("pm_card")))
        .collect();
    seed(&s.db, &many).await;
    // 32 calls may be in flight, paced at 10 a second: the last waits 2.4 s for its turn,
    // longer than the 1 s a call may take.
    let paced: Arc<dyn PaymentProvider> = Arc::new(RateLimitedProvider::new(
        Arc::new(s.stripe(s.clock.clone(), Duration::from_secs(5))),
        RateLimit::per_second(10),
    ));
    let service = billing_configured(&s.db, paced, s.clock.clone(), "paced", |config| {
        config.call_timeout = Duration::from_secs(1);
    });
    let run = s.bill(&service, "paced-1").await;
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");
    for invoice in all_invoices(&s.db).await {
        assert_eq!(invoice.status, InvoiceStatus::Paid, "{invoice:?}");
        let log = s.db.list_attempts(invoice.id).await.unwrap();
        assert_eq!(log.len(), 1, "sent once, never timed out waiting: {log:?}");
    }
}

async fn a_key_first_sent_by_a_host_whose_clock_ran_ahead_is_looked_up_after_a_day(
    backend: Backend,
) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_ok", Card::Succeeds);
    seed(&s.db, &[refs(Some("cus_ok"), Some("pm_card"))]).await;
    // Host A's clock runs two hours ahead. It sends the key; Stripe charges; the answer is lost.
    let host_a = Arc::new(ManualClock::new(t0() + TimeDelta::hours(2)));
    let a = s.losing_the_answer(host_a);
    s.bill(&a, "ahead-1").await;
    let invoice = s.invoice(0).await;
    assert_eq!(s.fake.charges_of(invoice.id.get()), 1);
    assert_eq!(
        invoice.status,
        InvoiceStatus::Pending,
        "the answer was lost"
    );
    // A day and a half hour pass (Stripe forgets the key); host B, whose clock is right,
    // takes the retry. By A's clock the key is 22.5 hours old; by the store's, 24.5.
    let later = TimeDelta::hours(24) + TimeDelta::minutes(30);
    s.clock.advance(later);
    antaeus_data::testing::age_charge_keys(&s.db, later).await;
    s.db.retry_invoice(invoice.id, s.clock.now()).await.unwrap();
    s.bill(&s.service(), "ahead-2").await;
    let after = s.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(after.status, InvoiceStatus::Paid, "{after:?}");
    assert!(s.fake.requests("search") >= 1, "looked up before resending");
    assert_eq!(s.fake.charges_of(invoice.id.get()), 1, "charged once");
}

/// The payment event service on the stage: no webhooks, the provider asked.
fn payments(s: &Stage) -> PaymentEventService {
    PaymentEventService::new(
        PaymentEventDeps {
            store: Arc::new(s.db.clone()),
            refunds: Arc::new(s.db.clone()),
            reader: None,
            provider: Arc::new(s.stripe(s.clock.clone(), Duration::from_secs(5))),
            clock: s.clock.clone(),
        },
        RetryPolicy::default(),
        Duration::from_secs(5),
    )
}

async fn a_payment_completed_while_its_webhook_was_lost_is_learnt_by_reconciliation(
    backend: Backend,
) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_3ds", Card::LeftRequiringAction);
    seed(&s.db, &[refs(Some("cus_3ds"), None)]).await;
    s.bill(&s.service(), "lost-1").await;
    let invoice = s.invoice(0).await;
    let pi = s.fake.intents_of(invoice.id.get())[0].id.clone();
    // Nothing to learn yet: the customer has not come back.
    let quiet = payments(&s).reconcile(&Shutdown::never()).await.unwrap();
    assert_eq!((quiet.asked, quiet.settled), (1, 0), "{quiet:?}");
    // The customer authenticates; the webhook never arrives.
    s.fake.complete(&pi);
    let report = payments(&s).reconcile(&Shutdown::never()).await.unwrap();
    assert_eq!((report.asked, report.settled), (1, 1), "{report:?}");
    let after = s.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(after.status, InvoiceStatus::Paid, "{after:?}");
    assert_eq!(after.next_attempt_at, None, "the dunning retry is dropped");
    let paid: Vec<_> = all_events(&s.db)
        .await
        .into_iter()
        .filter(|e| e.kind == "invoice.paid")
        .collect();
    assert_eq!(paid.len(), 1, "{paid:?}");
    assert!(paid[0].payload.contains(&pi), "{paid:?}");
    // Once paid, there is nothing left to ask about, and a later run charges nothing.
    let done = payments(&s).reconcile(&Shutdown::never()).await.unwrap();
    assert_eq!(done.asked, 0);
    s.clock.advance(TimeDelta::days(2));
    s.bill(&s.service(), "lost-2").await;
    assert_eq!(s.fake.intents_of(invoice.id.get()).len(), 1);
    assert_invariants(&s.db, |i| s.fake.charges_of(i)).await;
}

async fn a_void_is_refused_while_the_customer_may_still_complete_the_payment(backend: Backend) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_3ds", Card::LeftRequiringAction);
    seed(&s.db, &[refs(Some("cus_3ds"), None)]).await;
    s.bill(&s.service(), "void-1").await;
    let invoice = s.invoice(0).await;
    let pi = s.fake.intents_of(invoice.id.get())[0].id.clone();
    let refused = s.db.void_invoice(invoice.id, s.clock.now()).await.unwrap();
    assert_eq!(
        refused,
        antaeus_core::store::VoidOutcome::PaymentMayComplete {
            reference: pi.clone()
        }
    );
    // The operator cancels it at Stripe; once that is known, the invoice can be voided.
    s.fake.ledger().cancel(&pi);
    payments(&s).reconcile(&Shutdown::never()).await.unwrap();
    let voided = s.db.void_invoice(invoice.id, s.clock.now()).await.unwrap();
    assert!(
        matches!(voided, antaeus_core::store::VoidOutcome::Voided(_)),
        "{voided:?}"
    );
}

async fn two_deployments_on_one_stripe_account_each_charge_their_own_invoices_once(
    backend: Backend,
) {
    // Production and a staging copy, each with its own database (and so its own invoice 1),
    // charging through one Stripe account.
    let Some(production) = Stage::new(backend).await else {
        return;
    };
    let Some(staging_db) = TestDatabase::new(backend).await else {
        return;
    };
    let fake = &production.fake;
    fake.add_customer("cus_prod", Card::Succeeds);
    fake.add_customer("cus_staging", Card::Succeeds);
    seed(&production.db, &[refs(Some("cus_prod"), Some("pm_card"))]).await;
    seed(
        &staging_db.db,
        &[refs(Some("cus_staging"), Some("pm_card"))],
    )
    .await;
    production.bill(&production.service(), "prod-1").await;
    let stripe = production.stripe(production.clock.clone(), Duration::from_secs(5));
    let staging = billing(
        &staging_db.db,
        Arc::new(stripe),
        production.clock.clone(),
        true,
        "staging",
    );
    staging
        .bill(&run_request("staging-1"), Shutdown::never())
        .await
        .unwrap();
    for db in [&production.db, &staging_db.db] {
        let invoice = all_invoices(db).await.remove(0);
        assert_eq!(invoice.id.get(), 1, "the same invoice id in both");
        assert_eq!(invoice.status, InvoiceStatus::Paid, "{invoice:?}");
    }
    let intents = fake.intents_of(1);
    assert_eq!(intents.len(), 2, "one PaymentIntent each: {intents:?}");
    let customers: Vec<&str> = intents.iter().map(|i| i.customer.as_str()).collect();
    assert!(
        customers.contains(&"cus_prod") && customers.contains(&"cus_staging"),
        "{customers:?}"
    );
    let deployments: Vec<Option<String>> = intents.iter().map(|i| i.deployment.clone()).collect();
    assert_eq!(
        deployments,
        [
            Some(production.db.deployment_id().await.unwrap()),
            Some(staging_db.db.deployment_id().await.unwrap())
        ]
    );
    assert_ne!(deployments[0], deployments[1]);
}

async fn a_refund_whose_answer_was_lost_is_asked_again_under_its_key_and_refunds_once(
    backend: Backend,
) {
    let Some(s) = Stage::new(backend).await else {
        return;
    };
    s.fake.add_customer("cus_ok", Card::Succeeds);
    seed(&s.db, &[refs(Some("cus_ok"), Some("pm_card"))]).await;
    s.bill(&s.service(), "refund-1").await;
    let invoice = s.invoice(0).await;
    assert_eq!(invoice.status, InvoiceStatus::Paid);
    let refunds = RefundService::new(
        Arc::new(s.db.clone()),
        Arc::new(s.stripe(s.clock.clone(), Duration::from_millis(500))),
        s.clock.clone(),
        Duration::from_secs(5),
    );
    s.fake.lose_next_refund_answer();
    let (pending, made) = refunds
        .refund(invoice.id, None, Some("requested_by_customer".into()), None)
        .await
        .unwrap();
    assert!(made);
    assert_eq!(
        pending.status,
        antaeus_models::RefundStatus::Pending,
        "{pending:?}"
    );
    assert_eq!(refunds.resend_due().await.unwrap(), 0, "not due yet");
    s.clock.advance(TimeDelta::minutes(2));
    assert_eq!(refunds.resend_due().await.unwrap(), 1);
    let listed = refunds.list(invoice.id).await.unwrap();
    assert_eq!(
        listed[0].status,
        antaeus_models::RefundStatus::Succeeded,
        "{listed:?}"
    );
    assert_eq!(listed[0].attempts, 2, "two calls, one key");
    let pi = s.fake.intents_of(invoice.id.get())[0].id.clone();
    assert_eq!(s.fake.refunds_of(&pi).len(), 1, "refunded once");
    assert_eq!(
        s.fake.requests("list_refunds"),
        1,
        "looked for among the PaymentIntent's refunds before sending the key again"
    );
    let after = s.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(after.refunded, after.amount);
}
