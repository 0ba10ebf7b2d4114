//! Requests, seeding, billing services and the invariant check shared by the Stripe tests.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use antaeus_app::provider::StripeConfig;
use antaeus_core::billing::{
    BillingConfig, BillingDeps, BillingService, JournalConfig, ResendPolicy, RunRequest,
    SeededRandom,
};
use antaeus_core::store::{AttemptStore, CustomerStore, CustomerUpsert, EventStore, NewCustomer};
use antaeus_core::{ChargeRequest, Clock, PaymentProvider};
use antaeus_data::{Database, NewInvoice};
use antaeus_models::{
    AttemptOutcome, Currency, Customer, CustomerId, EventFilter, EventRecord, IdempotencyKey,
    Invoice, InvoiceId, InvoiceStatus, Money, PageLimit, PageRequest, ProviderRefs, RunScope,
    RunTrigger,
};

pub use crate::billing_helpers::all_invoices;
use chrono::{DateTime, Utc};

/// When the tests' clocks start.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

/// A test-mode configuration for the Stripe at `url`.
pub fn stripe_config(url: &str, timeout: Duration) -> StripeConfig {
    StripeConfig {
        api_base: url.into(),
        secret_key: "sk_test_antaeus".into(),
        timeout,
    }
}

/// A first charge of invoice `id` (12.34 EUR) under `key`, for a customer with these
/// references.
pub fn charge_request(
    id: i64,
    key: &str,
    customer_ref: Option<&str>,
    payment_method_ref: Option<&str>,
) -> ChargeRequest {
    let invoice = Invoice::new(
        InvoiceId::new(id).unwrap(),
        CustomerId::new(3).unwrap(),
        Money::from_minor(1_234, Currency::EUR).unwrap(),
        InvoiceStatus::Pending,
    );
    ChargeRequest {
        customer: refs(customer_ref, payment_method_ref),
        ..ChargeRequest::new(invoice, IdempotencyKey::parse(key).unwrap())
    }
}

/// Provider references.
pub fn refs(customer_ref: Option<&str>, payment_method_ref: Option<&str>) -> ProviderRefs {
    ProviderRefs {
        customer_ref: customer_ref.map(Into::into),
        payment_method_ref: payment_method_ref.map(Into::into),
    }
}

/// Creates one customer per entry (EUR, with these references), each with one due invoice of
/// 10.00 + its position; returns the customers.
pub async fn seed(db: &Database, customers: &[ProviderRefs]) -> Vec<Customer> {
    let rows: Vec<CustomerUpsert> = customers
        .iter()
        .map(|provider| {
            NewCustomer {
                currency: Currency::EUR,
                external_id: None,
                name: None,
                email: None,
                provider: provider.clone(),
            }
            .into()
        })
        .collect();
    let mut created = Vec::new();
    for chunk in rows.chunks(500) {
        for outcome in db.upsert_customers(chunk).await.unwrap() {
            match outcome {
                antaeus_core::store::Upserted::Created(c) => created.push(c),
                other => panic!("not created: {other:?}"),
            }
        }
    }
    let invoices = created
        .iter()
        .enumerate()
        .map(|(i, c)| NewInvoice {
            customer_id: c.id,
            amount: Money::from_minor(1_000 + i as i64, Currency::EUR).unwrap(),
            status: InvoiceStatus::Pending,
        })
        .collect();
    db.insert_invoices(invoices).await.unwrap();
    created
}

/// A billing service on `db` charging through `provider`, with short waits.
pub fn billing(
    db: &Database,
    provider: Arc<dyn PaymentProvider>,
    clock: Arc<dyn Clock>,
    require_customer_ref: bool,
    name: &str,
) -> BillingService {
    billing_configured(db, provider, clock, name, |config| {
        config.require_customer_ref = require_customer_ref;
    })
}

/// [`billing`] (with customer references required) and the settings `adjust` changes.
pub fn billing_configured(
    db: &Database,
    provider: Arc<dyn PaymentProvider>,
    clock: Arc<dyn Clock>,
    name: &str,
    adjust: impl FnOnce(&mut BillingConfig),
) -> BillingService {
    let store = Arc::new(db.clone());
    let deps = BillingDeps {
        billing: store.clone(),
        runs: store.clone(),
        instances: store,
        provider,
        clock,
        random: Arc::new(SeededRandom::new(7)),
    };
    let mut config = BillingConfig {
        concurrency: 32,
        max_claim: 100,
        call_timeout: Duration::from_secs(10),
        resend: ResendPolicy {
            tries: 3,
            base: Duration::from_millis(2),
            cap: Duration::from_millis(10),
        },
        drain_poll: Duration::from_millis(20),
        journal: JournalConfig {
            flush_interval: Duration::from_millis(2),
            ..JournalConfig::default()
        },
        require_customer_ref: true,
        ..BillingConfig::default()
    };
    adjust(&mut config);
    BillingService::new(deps, config, name.to_owned())
}

/// A request for the run named `key`.
pub fn run_request(key: &str) -> RunRequest {
    RunRequest::new(
        IdempotencyKey::parse(key).unwrap(),
        RunTrigger::Api,
        RunScope::All,
    )
}

/// Every billing event written, in order.
pub async fn all_events(db: &Database) -> Vec<EventRecord> {
    db.list_events(
        EventFilter::default(),
        PageRequest {
            after: None,
            limit: PageLimit::new(1000).unwrap(),
        },
    )
    .await
    .unwrap()
}

/// What the invariant check found.
#[derive(Debug, Default)]
pub struct Census {
    pub by_status: HashMap<InvoiceStatus, usize>,
    /// PENDING invoices whose last call's outcome is unknown.
    pub unknown: usize,
}

/// The invariants, by a ledger of charges per invoice: nobody charged twice; a PAID invoice
/// charged once, with the charge's id on its last attempt; FAILED and declined ones never
/// charged; every invoice PAID, FAILED or PENDING with a next attempt; keys change only after a
/// definitive outcome.
pub async fn assert_invariants(db: &Database, charges_of: impl Fn(i64) -> u32) -> Census {
    let mut census = Census::default();
    for invoice in all_invoices(db).await {
        *census.by_status.entry(invoice.status).or_default() += 1;
        let log = db.list_attempts(invoice.id).await.unwrap();
        let charges = charges_of(invoice.id.get());
        assert!(charges <= 1, "charged {charges} times: {invoice:?} {log:?}");
        let last = log.last();
        let unknown = last
            .and_then(|a| a.outcome)
            .is_some_and(|o| !o.is_definitive());
        match invoice.status {
            InvoiceStatus::Paid => {
                assert_eq!(charges, 1, "{invoice:?} {log:?}");
                let last = last.unwrap();
                assert_eq!(last.outcome, Some(AttemptOutcome::Charged));
                assert!(
                    last.provider_ref
                        .as_deref()
                        .is_some_and(|r| r.starts_with("pi_")),
                    "the PaymentIntent id is recorded: {last:?}"
                );
            }
            InvoiceStatus::Failed => {
                assert!(invoice.failure_reason.is_some(), "{invoice:?}");
                assert_eq!(charges, 0, "{invoice:?} {log:?}");
            }
            InvoiceStatus::Pending => {
                assert!(invoice.next_attempt_at.is_some(), "left due: {invoice:?}");
                if unknown {
                    census.unknown += 1;
                } else {
                    assert_eq!(charges, 0, "{invoice:?} {log:?}");
                }
            }
            other => panic!("{other:?}: {invoice:?} {log:?}"),
        }
        assert_eq!(log.len() as u32, invoice.attempts, "{invoice:?} {log:?}");
        for attempt in &log {
            let decided: std::collections::HashSet<_> = log
                .iter()
                .filter(|a| a.idempotency_key == attempt.idempotency_key)
                .filter_map(|a| a.outcome.filter(|o| o.is_definitive()))
                .collect();
            assert!(decided.len() <= 1, "one key, two decisions: {log:?}");
        }
        for pair in log.windows(2) {
            let definitive = pair[0].outcome.is_some_and(AttemptOutcome::is_definitive);
            let changed = pair[0].idempotency_key != pair[1].idempotency_key;
            if definitive && !changed {
                // A takeover's resend of a key its stalled owner had decided.
                assert_ne!(
                    pair[0].instance_id, pair[1].instance_id,
                    "a decided key was sent again, and not by a takeover: {log:?}"
                );
            } else {
                assert_eq!(
                    changed, definitive,
                    "a key changes only after a definitive outcome: {log:?}"
                );
            }
        }
    }
    census
}
