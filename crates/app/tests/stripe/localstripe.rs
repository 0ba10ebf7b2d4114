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
);

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
