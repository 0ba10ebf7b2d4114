//! Against localstripe, a Stripe stand-in that no one here wrote (started by
//! `.ci/localstripe.sh`, which exports `ANTAEUS_TEST_LOCALSTRIPE_URL`): customers with cards
//! attached, charged off-session through billing runs and through `antaeus bill`. localstripe
//! ignores idempotency keys, answers in older shapes and cannot fault; the Stripe-shaped
//! server covers those.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use antaeus_app::provider::StripePaymentProvider;
use antaeus_core::store::{AttemptStore, InvoiceStore};
use antaeus_core::{Shutdown, SystemClock};
use antaeus_data::Backend;
use antaeus_data::testing::TestDatabase;
use antaeus_models::{AttemptOutcome, FailureReason, InvoiceStatus, RunStatus};
use serde_json::Value;

use crate::api_helpers::{TestApp, spawn_app_with};
use crate::billing_tests;
use crate::helpers::{all_events, all_invoices, billing, refs, run_request, seed, stripe_config};

/// The variable naming a running localstripe.
const URL_VAR: &str = "ANTAEUS_TEST_LOCALSTRIPE_URL";
/// Set (by `.ci/run`) when a missing localstripe must fail the tests instead of skipping them.
const REQUIRE_VAR: &str = "ANTAEUS_REQUIRE_LOCALSTRIPE";
/// A test-mode key; localstripe takes any `sk_…`.
const SECRET_KEY: &str = "sk_test_antaeus";
/// Visa, always succeeds.
const GOOD_CARD: &str = "4242424242424242";
/// Attaches, then every charge is declined.
const DECLINED_CARD: &str = "4000000000000341";

billing_tests!(
    a_billing_run_charges_declines_and_fails_unknown_customers_in_localstripe,
    antaeus_bill_charges_through_localstripe,
    a_customer_who_authenticates_is_paid_by_the_waiting_intent_through_its_webhook,
    a_lost_webhook_is_healed_by_the_retry_which_takes_the_completed_intent,
    an_abandoned_intent_is_cancelled_before_the_retry_makes_another,
    a_paid_invoice_is_refunded_through_localstripe_never_beyond_what_was_paid,
);

/// Needs authentication (3-D Secure) on every charge, off-session included.
const AUTHENTICATING_CARD: &str = "4000002760003184";
/// The webhook endpoint's signing secret the tests configure.
const WEBHOOK_SECRET: &str = "whsec_localstripe_antaeus";

/// localstripe's URL, or `None` (with a `SKIPPED` line) when it is not running here.
fn localstripe(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url.trim().trim_end_matches('/').to_owned()),
        _ if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") => {
            panic!("{REQUIRE_VAR}=1 but {URL_VAR} is not set: localstripe did not start")
        }
        _ => {
            // Past the harness' capture, so the skip shows although the test passes.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: {test} needs localstripe; set {URL_VAR} (bash .ci/localstripe.sh)"
            );
            None
        }
    }
}

/// A client of localstripe's API, to set up customers and read what was charged.
struct Localstripe {
    url: String,
    http: reqwest::Client,
}

impl Localstripe {
    fn new(url: String) -> Self {
        Self {
            url,
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
        }
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let answer = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(SECRET_KEY)
            .form(form)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        answer.json().await.unwrap()
    }

    async fn get(&self, path: &str) -> Value {
        let answer = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(SECRET_KEY)
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{path}: {}", answer.status());
        answer.json().await.unwrap()
    }

    /// A customer with the card `number` attached (as its default when `default`): the
    /// customer's and the payment method's ids.
    async fn customer_with_card(&self, number: &str, default: bool) -> (String, String) {
        let customer = self
            .post("/v1/customers", &[("email", "payer@example.com")])
            .await;
        let customer = customer["id"].as_str().unwrap().to_owned();
        let method = self
            .post(
                "/v1/payment_methods",
                &[
                    ("type", "card"),
                    ("card[number]", number),
                    ("card[exp_month]", "12"),
                    ("card[exp_year]", "2034"),
                    ("card[cvc]", "123"),
                ],
            )
            .await;
        let method = method["id"].as_str().unwrap().to_owned();
        self.post(
            &format!("/v1/payment_methods/{method}/attach"),
            &[("customer", &customer)],
        )
        .await;
        if default {
            self.post(
                &format!("/v1/customers/{customer}"),
                &[("invoice_settings[default_payment_method]", &method)],
            )
            .await;
        }
        (customer, method)
    }
}

async fn a_billing_run_charges_declines_and_fails_unknown_customers_in_localstripe(
    backend: Backend,
) {
    let Some(url) = localstripe("a_billing_run_charges_declines_and_fails_unknown_customers")
    else {
        return;
    };
    let Some(test_db) = TestDatabase::new(backend).await else {
        return;
    };
    let db = test_db.db.clone();
    let stripe = Localstripe::new(url.clone());
    let (good, good_card) = stripe.customer_with_card(GOOD_CARD, false).await;
    let (by_default, _) = stripe.customer_with_card(GOOD_CARD, true).await;
    let (declined, declined_card) = stripe.customer_with_card(DECLINED_CARD, false).await;
    let customers = seed(
        &db,
        &[
            refs(Some(&good), Some(&good_card)),
            refs(Some(&by_default), None),
            refs(Some(&declined), Some(&declined_card)),
            refs(Some("cus_nobodyhere"), Some(&good_card)),
            refs(None, None),
        ],
    )
    .await;
    let clock = Arc::new(SystemClock);
    let provider = StripePaymentProvider::with_clock(
        &stripe_config(&url, Duration::from_secs(10)),
        clock.clone(),
    )
    .unwrap();
    let run = billing(&db, Arc::new(provider), clock, true, "localstripe")
        .bill(&run_request("localstripe-1"), Shutdown::never())
        .await
        .unwrap();
    assert_eq!(run.status, RunStatus::Completed, "{run:?}");

    let invoices = all_invoices(&db).await;
    let of = |n: usize| {
        invoices
            .iter()
            .find(|i| i.customer_id == customers[n].id)
            .unwrap()
            .clone()
    };
    for n in [0, 1] {
        let paid = of(n);
        assert_eq!(paid.status, InvoiceStatus::Paid, "{paid:?}");
        let log = db.list_attempts(paid.id).await.unwrap();
        assert_eq!(log.len(), 1, "{log:?}");
        let pi = log[0].provider_ref.clone().unwrap();
        let intent = stripe.get(&format!("/v1/payment_intents/{pi}")).await;
        assert_eq!(intent["status"], "succeeded", "{intent}");
        assert_eq!(intent["amount"], paid.amount.to_minor(), "{intent}");
        assert_eq!(intent["currency"], "eur");
        assert_eq!(
            intent["metadata"]["antaeus_key"],
            log[0].idempotency_key.as_str()
        );
    }
    let declined = of(2);
    assert_eq!(
        declined.status,
        InvoiceStatus::Pending,
        "into dunning: {declined:?}"
    );
    assert!(declined.next_attempt_at.is_some());
    let log = db.list_attempts(declined.id).await.unwrap();
    assert_eq!(log[0].outcome, Some(AttemptOutcome::Declined));
    assert_eq!(log[0].decline_code.as_deref(), Some("card_declined"));
    let events = all_events(&db).await;
    assert!(
        events
            .iter()
            .any(|e| e.kind == "invoice.charge_declined" && e.payload.contains("card_declined")),
        "{events:#?}"
    );
    let unknown = of(3);
    assert_eq!(unknown.status, InvoiceStatus::Failed);
    assert_eq!(
        unknown.failure_reason,
        Some(FailureReason::CustomerNotFound)
    );
    let no_ref = of(4);
    assert_eq!(no_ref.failure_reason, Some(FailureReason::NoPaymentMethod));
}

async fn antaeus_bill_charges_through_localstripe(backend: Backend) {
    let Some(url) = localstripe("antaeus_bill_charges_through_localstripe") else {
        return;
    };
    let Some(test_db) = TestDatabase::new(backend).await else {
        return;
    };
    let stripe = Localstripe::new(url.clone());
    let (customer, card) = stripe.customer_with_card(GOOD_CARD, false).await;
    seed(
        &test_db.db,
        &[refs(Some(&customer), Some(&card)), refs(None, None)],
    )
    .await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_antaeus"))
        .arg("bill")
        .env_clear()
        .envs([
            ("ANTAEUS_DATABASE_URL", test_db.url_string()),
            ("ANTAEUS_PAYMENT_PROVIDER", "stripe".into()),
            ("ANTAEUS_STRIPE_API_BASE", url),
            ("ANTAEUS_STRIPE_SECRET_KEY", SECRET_KEY.into()),
            ("ANTAEUS_PROVIDER_MAX_RPS", "20".into()),
            ("ANTAEUS_DB_POOL_SIZE", "4".into()),
            ("RUST_LOG", "warn".into()),
        ])
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "antaeus bill failed: {}\nstdout: {}\nstderr: {stderr}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
    );
    assert!(
        !stderr.contains(SECRET_KEY),
        "the secret key was logged: {stderr}"
    );
    let invoices = all_invoices(&test_db.db).await;
    assert_eq!(invoices[0].status, InvoiceStatus::Paid, "{invoices:?}");
    assert_eq!(
        invoices[1].failure_reason,
        Some(FailureReason::NoPaymentMethod)
    );
    let paid = test_db.db.fetch_invoice(invoices[0].id).await.unwrap();
    assert!(paid.is_some());
}

/// The real server charging through localstripe (webhooks on, reconciliation out of the way),
/// with a customer paying by `card` and one due invoice of 12.34 EUR: the app, localstripe's
/// client, and the invoice's id.
async fn site(
    backend: Backend,
    url: &str,
    card: &str,
    webhooks: bool,
) -> Option<(TestApp, Localstripe, i64)> {
    let app = spawn_app_with(
        backend,
        &[
            ("ANTAEUS_PAYMENT_PROVIDER", "stripe"),
            ("ANTAEUS_STRIPE_API_BASE", url),
            ("ANTAEUS_STRIPE_SECRET_KEY", SECRET_KEY),
            ("ANTAEUS_STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("ANTAEUS_PROVIDER_MAX_RPS", "20"),
            ("ANTAEUS_RECONCILE_INTERVAL_S", "86400"),
        ],
    )
    .await?;
    let stripe = Localstripe::new(url.to_owned());
    if webhooks {
        // localstripe posts every event to every endpoint registered with it; the others'
        // servers ignore ours (another deployment's), as ours ignores theirs.
        let name = format!("antaeus-{}", app.address.replace([':', '/', '.'], "-"));
        let registered = stripe
            .http
            .post(format!("{url}/_config/webhooks/{name}"))
            .form(&[
                ("url", format!("{}/webhooks/stripe", app.address)),
                ("secret", WEBHOOK_SECRET.to_owned()),
            ])
            .send()
            .await
            .unwrap();
        assert!(registered.status().is_success(), "{}", registered.status());
    }
    let (customer, method) = stripe.customer_with_card(card, false).await;
    let created = app
        .create_customer(serde_json::json!({
            "currency": "EUR",
            "provider": {"customerRef": customer, "paymentMethodRef": method}
        }))
        .await;
    let invoice = app
        .create_invoice(serde_json::json!({
            "customerId": created["id"],
            "amount": {"value": "12.34", "currency": "EUR"}
        }))
        .await;
    Some((app, stripe, invoice["id"].as_i64().unwrap()))
}

/// The PaymentIntents the invoice's calls named, in order, without repeats.
async fn intents_of(app: &TestApp, invoice: i64) -> Vec<String> {
    let attempts = app
        .get_json(&format!("/rest/v1/invoices/{invoice}/attempts"))
        .await;
    let mut intents: Vec<String> = Vec::new();
    for attempt in attempts.as_array().unwrap() {
        if let Some(pi) = attempt["providerRef"].as_str()
            && !intents.iter().any(|i| i == pi)
        {
            intents.push(pi.to_owned());
        }
    }
    intents
}

/// The customer completes 3-D Secure on PaymentIntent `pi`, as Stripe.js would.
async fn authenticate(stripe: &Localstripe, pi: &str) {
    let intent = stripe.get(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(intent["status"], "requires_action", "{intent}");
    let secret = intent["client_secret"].as_str().unwrap().to_owned();
    stripe
        .post(
            &format!("/v1/payment_intents/{pi}/_authenticate"),
            &[("client_secret", &secret), ("success", "true")],
        )
        .await;
}

async fn status_of(app: &TestApp, invoice: i64) -> Value {
    app.get_json(&format!("/rest/v1/invoices/{invoice}")).await["status"].clone()
}

async fn a_customer_who_authenticates_is_paid_by_the_waiting_intent_through_its_webhook(
    backend: Backend,
) {
    let Some(url) = localstripe("a_customer_who_authenticates_is_paid_by_the_waiting_intent")
    else {
        return;
    };
    let Some((app, stripe, id)) = site(backend, &url, AUTHENTICATING_CARD, true).await else {
        return;
    };
    app.bill().await;
    assert_eq!(status_of(&app, id).await, "PENDING");
    let intents = intents_of(&app, id).await;
    assert_eq!(intents.len(), 1, "{intents:?}");
    let events = app.get_json("/rest/v1/events").await;
    let asked = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "invoice.payment_action_required")
        .cloned()
        .expect("the customer is asked to act");
    assert_eq!(
        asked["payload"]["data"]["invoice"]["paymentIntentId"],
        intents[0].as_str()
    );
    authenticate(&stripe, &intents[0]).await;
    // localstripe sends payment_intent.succeeded, signed, about a second later.
    let mut paid = false;
    for _ in 0..100 {
        if status_of(&app, id).await == "PAID" {
            paid = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(paid, "the webhook made the invoice PAID");
    assert_eq!(intents_of(&app, id).await, intents, "one PaymentIntent");
    let intent = stripe
        .get(&format!("/v1/payment_intents/{}", intents[0]))
        .await;
    assert_eq!(intent["status"], "succeeded");
    // The next run has nothing to charge.
    app.bill().await;
    assert_eq!(intents_of(&app, id).await, intents);
}

async fn a_lost_webhook_is_healed_by_the_retry_which_takes_the_completed_intent(backend: Backend) {
    let Some(url) = localstripe("a_lost_webhook_is_healed_by_the_retry") else {
        return;
    };
    let Some((app, stripe, id)) = site(backend, &url, AUTHENTICATING_CARD, false).await else {
        return;
    };
    app.bill().await;
    let intents = intents_of(&app, id).await;
    authenticate(&stripe, &intents[0]).await;
    // No webhook reaches this server. The dunning retry comes (an operator's, here).
    let retried = app
        .post(&format!("/rest/v1/invoices/{id}/retry"), "", &[])
        .await;
    assert_eq!(retried.status(), 200);
    app.bill().await;
    assert_eq!(status_of(&app, id).await, "PAID");
    assert_eq!(
        intents_of(&app, id).await,
        intents,
        "paid by the PaymentIntent the customer completed, no second one"
    );
}

async fn an_abandoned_intent_is_cancelled_before_the_retry_makes_another(backend: Backend) {
    let Some(url) = localstripe("an_abandoned_intent_is_cancelled_before_the_retry") else {
        return;
    };
    let Some((app, stripe, id)) = site(backend, &url, AUTHENTICATING_CARD, false).await else {
        return;
    };
    app.bill().await;
    let first = intents_of(&app, id).await;
    let retried = app
        .post(&format!("/rest/v1/invoices/{id}/retry"), "", &[])
        .await;
    assert_eq!(retried.status(), 200);
    app.bill().await;
    let intents = intents_of(&app, id).await;
    assert_eq!(intents.len(), 2, "{intents:?}");
    assert_eq!(intents[0], first[0]);
    let abandoned = stripe
        .get(&format!("/v1/payment_intents/{}", intents[0]))
        .await;
    assert_eq!(abandoned["status"], "canceled", "{abandoned}");
    let waiting = stripe
        .get(&format!("/v1/payment_intents/{}", intents[1]))
        .await;
    assert_eq!(waiting["status"], "requires_action", "{waiting}");
    assert_eq!(status_of(&app, id).await, "PENDING");
}

async fn a_paid_invoice_is_refunded_through_localstripe_never_beyond_what_was_paid(
    backend: Backend,
) {
    let Some(url) = localstripe("a_paid_invoice_is_refunded_through_localstripe") else {
        return;
    };
    let Some((app, stripe, id)) = site(backend, &url, GOOD_CARD, false).await else {
        return;
    };
    app.bill().await;
    assert_eq!(status_of(&app, id).await, "PAID");
    let pi = intents_of(&app, id).await.remove(0);
    let refunds = format!("/rest/v1/invoices/{id}/refunds");
    let part = app
        .post(&refunds, r#"{"amount":"5.00","reason":"goodwill"}"#, &[])
        .await;
    assert_eq!(part.status(), 201);
    let part: Value = part.json().await.unwrap();
    assert_eq!(part["status"], "succeeded", "{part}");
    assert!(part["providerRef"].as_str().unwrap().starts_with("re_"));
    let rest = app.post(&refunds, "", &[]).await;
    assert_eq!(rest.status(), 201);
    let invoice = app.get_json(&format!("/rest/v1/invoices/{id}")).await;
    assert_eq!(invoice["refundedAmount"], invoice["amount"], "{invoice}");
    let too_much = app.post(&refunds, r#"{"amount":"0.01"}"#, &[]).await;
    assert_eq!(too_much.status(), 409);
    let intent = stripe.get(&format!("/v1/payment_intents/{pi}")).await;
    assert_eq!(
        intent["latest_charge"]["amount_refunded"], 1234,
        "localstripe refunded all of it, once: {intent}"
    );
}
