//! Stripe's webhooks end to end: the real server (`antaeus serve`'s application, charging the
//! Stripe-shaped server) receives signed events at `POST /webhooks/stripe` and the invoices,
//! their attempts and the events Antaeus sends follow what the payment did after the call.

use std::sync::Arc;

use antaeus_core::ManualClock;
use antaeus_data::Backend;
use serde_json::{Value, json};

use crate::api_helpers::{TestApp, spawn_app_with};
use crate::billing_tests;
use crate::fake_stripe::{Card, FakeStripe};
use crate::helpers::t0;

billing_tests!(
    a_processing_payment_settled_by_its_webhook_is_paid_once_whatever_the_order_and_repeats,
    a_bad_or_stale_signature_is_refused_and_changes_nothing,
    a_dispute_is_recorded_announced_and_closed,
    a_second_payment_of_a_paid_invoice_is_flagged_as_a_double_charge,
    another_deployments_payment_is_ignored,
    refunds_go_to_stripe_once_and_those_made_in_its_dashboard_are_learnt,
    an_amount_stripe_never_charges_is_refused_when_the_invoice_is_created,
);

/// The endpoint's signing secret.
const SECRET: &str = "whsec_test_antaeus_0123456789";

/// The server charging through the Stripe-shaped server, with its webhooks on.
struct Site {
    app: TestApp,
    fake: FakeStripe,
    events: std::cell::Cell<u32>,
}

impl Site {
    async fn new(backend: Backend) -> Option<Self> {
        let fake = FakeStripe::start(Arc::new(ManualClock::new(t0())));
        let app = spawn_app_with(
            backend,
            &[
                ("ANTAEUS_PAYMENT_PROVIDER", "stripe"),
                ("ANTAEUS_STRIPE_API_BASE", &fake.url),
                ("ANTAEUS_STRIPE_SECRET_KEY", "sk_test_antaeus"),
                ("ANTAEUS_STRIPE_WEBHOOK_SECRET", SECRET),
                ("ANTAEUS_RESEND_BASE_MS", "2"),
                ("ANTAEUS_PROVIDER_TIMEOUT_MS", "1000"),
                ("ANTAEUS_RESEND_CAP_MS", "10"),
            ],
        )
        .await?;
        Some(Self {
            app,
            fake,
            events: std::cell::Cell::new(0),
        })
    }

    /// A customer with `card` (Stripe's `customer`) and a due invoice of 12.34 EUR; its id.
    async fn invoice_for(&self, customer: &str, card: Card) -> i64 {
        self.fake.add_customer(customer, card);
        let created = self
            .app
            .create_customer(json!({
                "currency": "EUR",
                "provider": {"customerRef": customer, "paymentMethodRef": "pm_card"}
            }))
            .await;
        let invoice = self
            .app
            .create_invoice(json!({
                "customerId": created["id"],
                "amount": {"value": "12.34", "currency": "EUR"}
            }))
            .await;
        invoice["id"].as_i64().unwrap()
    }

    async fn invoice(&self, id: i64) -> Value {
        self.app.get_json(&format!("/rest/v1/invoices/{id}")).await
    }

    /// Antaeus' own events about invoice `id` of type `kind`.
    async fn told(&self, id: i64, kind: &str) -> Vec<Value> {
        let events = self.app.get_json("/rest/v1/events").await;
        events
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == kind && e["payload"]["data"]["invoice"]["id"] == id)
            .cloned()
            .collect()
    }

    /// A Stripe event of `kind` about `object`, with a new id.
    fn event(&self, kind: &str, object: Value) -> Value {
        self.events.set(self.events.get() + 1);
        json!({
            "id": format!("evt_test_{}", self.events.get()),
            "object": "event",
            "type": kind,
            "created": chrono::Utc::now().timestamp(),
            "data": {"object": object},
        })
    }

    /// The PaymentIntent `id` as Stripe shows it now.
    fn intent(&self, id: &str) -> Value {
        self.fake.ledger().intents[id].json()
    }

    /// Delivers `event` signed with `secret` at `t` (unix seconds).
    async fn deliver_signed(&self, event: &Value, secret: &str, t: i64) -> reqwest::Response {
        let body = event.to_string();
        let signature = antaeus_app::notify::sign(secret.as_bytes(), t, body.as_bytes());
        self.app
            .client
            .post(format!("{}/webhooks/stripe", self.app.address))
            .header("Stripe-Signature", signature)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Delivers `event` as Stripe does; the answer's JSON, which must be a 200.
    async fn deliver(&self, event: &Value) -> Value {
        let response = self
            .deliver_signed(event, SECRET, chrono::Utc::now().timestamp())
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{event}: {body}");
        body
    }
}

async fn a_processing_payment_settled_by_its_webhook_is_paid_once_whatever_the_order_and_repeats(
    backend: Backend,
) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let id = site
        .invoice_for("cus_sepa", Card::ProcessesFor(1_000))
        .await;
    site.app.bill().await;
    let pending = site.invoice(id).await;
    assert_eq!(pending["status"], "PENDING", "{pending}");
    let pi = site.fake.intents_of(id)[0].id.clone();
    let processing = site.event("payment_intent.processing", site.intent(&pi));
    assert_eq!(site.deliver(&processing).await["outcome"], "applied");
    assert_eq!(site.invoice(id).await["status"], "PENDING");

    // The bank debit settles days later.
    site.fake.complete(&pi);
    let succeeded = site.event("payment_intent.succeeded", site.intent(&pi));
    assert_eq!(site.deliver(&succeeded).await["outcome"], "applied");
    let paid = site.invoice(id).await;
    assert_eq!(paid["status"], "PAID", "{paid}");
    assert_eq!(
        paid["nextAttemptAt"],
        Value::Null,
        "the pending retry is dropped"
    );
    // Delivered again (Stripe delivers at least once), and a late `processing`.
    assert_eq!(site.deliver(&succeeded).await["outcome"], "duplicate");
    let late = site.event("payment_intent.processing", site.intent(&pi));
    site.deliver(&late).await;
    assert_eq!(site.invoice(id).await["status"], "PAID");
    let told = site.told(id, "invoice.paid").await;
    assert_eq!(told.len(), 1, "invoice.paid goes out once: {told:?}");
    assert_eq!(
        told[0]["payload"]["data"]["invoice"]["chargeId"],
        pi.as_str()
    );
    let attempts = site
        .app
        .get_json(&format!("/rest/v1/invoices/{id}/attempts"))
        .await;
    assert_eq!(
        attempts.as_array().unwrap().last().unwrap()["outcome"],
        "charged"
    );
    // A later run has nothing to charge.
    site.app.bill().await;
    assert_eq!(site.fake.intents_of(id).len(), 1);
    assert_eq!(site.fake.charges_of(id), 1);
}

async fn a_bad_or_stale_signature_is_refused_and_changes_nothing(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let id = site.invoice_for("cus_3ds", Card::LeftRequiringAction).await;
    site.app.bill().await;
    let pi = site.fake.intents_of(id)[0].id.clone();
    site.fake.complete(&pi);
    let succeeded = site.event("payment_intent.succeeded", site.intent(&pi));
    let now = chrono::Utc::now().timestamp();
    for (secret, t, why) in [
        ("whsec_someone_else_000", now, "another secret"),
        (SECRET, now - 301, "older than five minutes"),
    ] {
        let refused = site.deliver_signed(&succeeded, secret, t).await;
        assert_eq!(refused.status(), 400, "{why}");
        let problem: Value = refused.json().await.unwrap();
        assert!(
            !problem["detail"].as_str().unwrap().contains(SECRET),
            "{problem}"
        );
        assert_eq!(site.invoice(id).await["status"], "PENDING", "{why}");
    }
    let unsigned = site
        .app
        .client
        .post(format!("{}/webhooks/stripe", site.app.address))
        .body(succeeded.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 400);
    // The genuine delivery was never recorded as handled: it applies now.
    assert_eq!(site.deliver(&succeeded).await["outcome"], "applied");
    assert_eq!(site.invoice(id).await["status"], "PAID");
}

async fn a_dispute_is_recorded_announced_and_closed(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let id = site.invoice_for("cus_ok", Card::Succeeds).await;
    site.app.bill().await;
    assert_eq!(site.invoice(id).await["status"], "PAID");
    let pi = site.fake.intents_of(id)[0].id.clone();
    let dispute = |status: &str| {
        json!({
            "id": "dp_1", "object": "dispute", "amount": 1234, "currency": "eur",
            "charge": format!("ch_{}", &pi[3..]), "payment_intent": pi,
            "reason": "fraudulent", "status": status,
            "evidence_details": {"due_by": 1_767_225_600, "has_evidence": false},
            "metadata": {}
        })
    };
    let opened = site.event("charge.dispute.created", dispute("needs_response"));
    assert_eq!(site.deliver(&opened).await["outcome"], "applied");
    let invoice = site.invoice(id).await;
    assert_eq!(
        invoice["dispute"],
        json!({"id": "dp_1", "status": "needs_response", "reason": "fraudulent",
               "amount": {"value": 12.34, "currency": "EUR"},
               "evidenceDueBy": "2026-01-01T00:00:00Z"}),
        "{invoice}"
    );
    assert_eq!(invoice["status"], "PAID");
    let disputed = site.told(id, "invoice.disputed").await;
    assert_eq!(disputed.len(), 1, "{disputed:?}");
    assert_eq!(
        disputed[0]["payload"]["data"]["invoice"]["dispute"]["reason"],
        "fraudulent"
    );
    let closed = site.event("charge.dispute.closed", dispute("lost"));
    site.deliver(&closed).await;
    assert_eq!(site.invoice(id).await["dispute"]["status"], "lost");
    assert_eq!(site.told(id, "invoice.dispute_closed").await.len(), 1);
    // Stripe does not order its events: an update sent before the close, delivered after it,
    // never reopens the dispute.
    let late = site.event("charge.dispute.updated", dispute("under_review"));
    assert_eq!(site.deliver(&late).await["outcome"], "ignored");
    assert_eq!(site.invoice(id).await["dispute"]["status"], "lost");
    assert_eq!(site.told(id, "invoice.disputed").await.len(), 1);
}

async fn a_second_payment_of_a_paid_invoice_is_flagged_as_a_double_charge(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    // The first attempt is declined; its PaymentIntent is left behind.
    let id = site
        .invoice_for("cus_card", Card::Declines("insufficient_funds"))
        .await;
    site.app.bill().await;
    let first = site.fake.intents_of(id)[0].id.clone();
    // The card is topped up; an operator retries; a second PaymentIntent pays the invoice.
    site.fake.add_customer("cus_card", Card::Succeeds);
    let retried = site
        .app
        .post(&format!("/rest/v1/invoices/{id}/retry"), "", &[])
        .await;
    assert_eq!(retried.status(), 200);
    site.app.bill().await;
    assert_eq!(site.invoice(id).await["status"], "PAID");
    // Meanwhile the SaaS had the customer pay the first one on its own: two payments.
    site.fake.complete(&first);
    let succeeded = site.event("payment_intent.succeeded", site.intent(&first));
    site.deliver(&succeeded).await;
    let invoice = site.invoice(id).await;
    assert_eq!(invoice["extraCharges"], 1, "{invoice}");
    let told = site.told(id, "invoice.double_charged").await;
    assert_eq!(told.len(), 1, "never silent: {told:?}");
    assert_eq!(
        told[0]["payload"]["data"]["invoice"]["paymentIntentId"],
        first.as_str()
    );
    assert_eq!(
        site.fake.charges_of(id),
        2,
        "the ledger agrees: two charges"
    );
}

async fn another_deployments_payment_is_ignored(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let id = site.invoice_for("cus_3ds", Card::LeftRequiringAction).await;
    site.app.bill().await;
    let pi = site.fake.intents_of(id)[0].id.clone();
    // A staging deployment on the same Stripe account charged its own invoice with this id.
    let mut theirs = site.intent(&pi);
    theirs["id"] = json!("pi_staging_1");
    theirs["status"] = json!("succeeded");
    theirs["metadata"]["antaeus_deployment"] = json!("ffffffffffff");
    theirs["metadata"]["antaeus_key"] = json!(format!("antaeus-ffffffffffff-{id}-0"));
    let answer = site
        .deliver(&site.event("payment_intent.succeeded", theirs))
        .await;
    assert_eq!(answer["outcome"], "ignored", "{answer}");
    assert_eq!(site.invoice(id).await["status"], "PENDING");
}

async fn refunds_go_to_stripe_once_and_those_made_in_its_dashboard_are_learnt(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let id = site.invoice_for("cus_ok", Card::Succeeds).await;
    site.app.bill().await;
    let pi = site.fake.intents_of(id)[0].id.clone();
    let refunds = format!("/rest/v1/invoices/{id}/refunds");
    let first = site
        .app
        .post(
            &refunds,
            r#"{"amount":"2.00","reason":"duplicate"}"#,
            &[("Idempotency-Key", "r-1")],
        )
        .await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["status"], "succeeded", "{first}");
    assert!(first["providerRef"].as_str().unwrap().starts_with("re_"));

    // Stripe makes the next refund, but its answer is lost: pending, never refunded twice.
    site.fake.lose_next_refund_answer();
    let lost = site.app.post(&refunds, r#"{"amount":"3.00"}"#, &[]).await;
    assert_eq!(lost.status(), 202);
    let lost: Value = lost.json().await.unwrap();
    assert_eq!(lost["status"], "pending", "{lost}");
    assert_eq!(
        site.invoice(id).await["refundedAmount"]["value"],
        json!(2.00)
    );
    let made = site.fake.refunds_of(&pi);
    assert_eq!(made.len(), 2, "{made:?}");
    // Stripe's event about it settles it.
    let refund = site.fake.ledger().refunds[&made[1].0].json();
    site.deliver(&site.event("charge.refund.updated", refund))
        .await;
    let listed = site.app.get_json(&refunds).await;
    assert_eq!(listed[1]["status"], "succeeded", "{listed}");
    assert_eq!(listed[1]["providerRef"], made[1].0.as_str());
    assert_eq!(
        site.invoice(id).await["refundedAmount"]["value"],
        json!(5.00)
    );

    // 1.00 more refunded in Stripe's dashboard: Stripe's total says so.
    let mut charge = json!({
        "id": format!("ch_{}", &pi[3..]), "object": "charge", "amount": 1234,
        "amount_refunded": 600, "currency": "eur", "payment_intent": pi, "refunded": false,
        "metadata": site.intent(&pi)["metadata"].clone()
    });
    site.deliver(&site.event("charge.refunded", charge.clone()))
        .await;
    let invoice = site.invoice(id).await;
    assert_eq!(invoice["refundedAmount"]["value"], json!(6.00), "{invoice}");
    let listed = site.app.get_json(&refunds).await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
    assert_eq!(listed[2]["origin"], "provider");
    assert_eq!(listed[2]["amount"]["value"], json!(1.00));
    // The same total told again changes nothing.
    charge["amount_refunded"] = json!(600);
    site.deliver(&site.event("charge.refunded", charge)).await;
    assert_eq!(
        site.app.get_json(&refunds).await.as_array().unwrap().len(),
        3
    );
    assert_eq!(site.told(id, "invoice.refunded").await.len(), 3);
    assert_eq!(
        site.fake.refunds_of(&pi).len(),
        2,
        "Antaeus sent two refunds, once each"
    );
}

async fn an_amount_stripe_never_charges_is_refused_when_the_invoice_is_created(backend: Backend) {
    let Some(site) = Site::new(backend).await else {
        return;
    };
    let customer = site
        .app
        .create_customer(json!({"currency": "EUR", "provider": {"customerRef": "cus_1"}}))
        .await;
    let tiny =
        json!({"customerId": customer["id"], "amount": {"value": "0.10", "currency": "EUR"}});
    let refused = site
        .app
        .post("/rest/v1/invoices", &tiny.to_string(), &[])
        .await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(
        problem["type"], "urn:antaeus:problem:amount_not_chargeable",
        "{problem}"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("0.50 EUR"),
        "{problem}"
    );
    let fine =
        json!({"customerId": customer["id"], "amount": {"value": "0.50", "currency": "EUR"}});
    let created = site
        .app
        .post("/rest/v1/invoices", &fine.to_string(), &[])
        .await;
    assert_eq!(created.status(), 201);
}
