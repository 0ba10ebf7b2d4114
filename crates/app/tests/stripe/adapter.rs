//! The adapter against the Stripe-shaped server, one Stripe semantic per test: what a
//! timeout, a key in flight, other parameters under a key, a 429, a 500, an SCA decline, a
//! processing charge and a key older than Stripe remembers each do, counted in its ledger.

use std::sync::Arc;
use std::time::Duration;

use antaeus_app::provider::StripePaymentProvider;
use antaeus_core::{ChargeDecision, ChargeRequest, ManualClock, PaymentProvider, ProviderError};
use chrono::TimeDelta;

use crate::fake_stripe::{Card, FakeStripe, Fault};
use crate::helpers::{charge_request, stripe_config, t0};

struct Setup {
    fake: FakeStripe,
    clock: Arc<ManualClock>,
    stripe: StripePaymentProvider,
}

fn setup(timeout: Duration) -> Setup {
    let clock = Arc::new(ManualClock::new(t0()));
    let fake = FakeStripe::start(clock.clone());
    let stripe =
        StripePaymentProvider::with_clock(&stripe_config(&fake.url, timeout), clock.clone())
            .unwrap();
    Setup {
        fake,
        clock,
        stripe,
    }
}

fn charged(id: &str) -> Result<ChargeDecision, ProviderError> {
    Ok(ChargeDecision::Charged {
        charge_id: id.into(),
    })
}

/// `request` as a resend sees it: sent before, at `at`.
fn resent(request: &ChargeRequest, at: chrono::DateTime<chrono::Utc>) -> ChargeRequest {
    ChargeRequest {
        key_first_sent_at: Some(at),
        ..request.clone()
    }
}

#[tokio::test]
async fn a_resend_after_a_timeout_replays_the_first_payment_intent() {
    let s = setup(Duration::from_millis(250));
    s.fake.add_customer("cus_ok", Card::Succeeds);
    s.fake
        .fault_next(Fault::SlowAnswer(Duration::from_millis(600)));
    let request = charge_request(17, "antaeus-17-0", Some("cus_ok"), Some("pm_card"));
    assert_eq!(s.stripe.charge(&request).await, Err(ProviderError::Timeout));
    assert_eq!(
        s.fake.charges_of(17),
        1,
        "Stripe charged; the answer was lost"
    );
    let again = s.stripe.charge(&resent(&request, t0())).await;
    assert_eq!(
        again,
        charged("pi_000001"),
        "the resend replays the first PaymentIntent"
    );
    assert_eq!(s.fake.charges_of(17), 1);
    assert_eq!(s.fake.requests("replay"), 1);
    assert!(
        s.fake.versions().iter().all(|v| v == "2024-06-20"),
        "{:?}",
        s.fake.versions()
    );
}

#[tokio::test]
async fn a_key_still_in_flight_is_resent_later_and_charges_once() {
    let s = setup(Duration::from_millis(200));
    s.fake.add_customer("cus_ok", Card::Succeeds);
    s.fake
        .fault_next(Fault::SlowProcessing(Duration::from_millis(700)));
    let request = charge_request(18, "antaeus-18-0", Some("cus_ok"), None);
    assert_eq!(s.stripe.charge(&request).await, Err(ProviderError::Timeout));
    let in_flight = s.stripe.charge(&resent(&request, t0())).await;
    assert_eq!(
        in_flight,
        Err(ProviderError::InProgress),
        "409 idempotency_key_in_use"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        s.stripe.charge(&resent(&request, t0())).await,
        charged("pi_000001")
    );
    assert_eq!(s.fake.charges_of(18), 1);
}

#[tokio::test]
async fn a_resend_whose_parameters_changed_takes_what_its_key_made_and_a_first_send_is_refused() {
    let s = setup(Duration::from_secs(5));
    s.fake.add_customer("cus_ok", Card::Succeeds);
    let first = charge_request(19, "antaeus-19-0", Some("cus_ok"), Some("pm_old"));
    assert_eq!(s.stripe.charge(&first).await, charged("pi_000001"));
    // Our key, resent with other parameters (a default payment method that changed since):
    // Stripe answers idempotency_error, and what the key made is looked up instead.
    let changed = charge_request(19, "antaeus-19-0", Some("cus_ok"), Some("pm_new"));
    let got = s.stripe.charge(&resent(&changed, t0())).await;
    assert_eq!(got, charged("pi_000001"), "found under the key");
    assert_eq!(s.fake.requests("search"), 1);
    assert_eq!(s.fake.charges_of(19), 1);
    // A key never sent by us that Stripe holds with other parameters is another's: refused.
    let foreign = charge_request(19, "antaeus-19-0", Some("cus_ok"), Some("pm_other"));
    assert_eq!(
        s.stripe.charge(&foreign).await,
        Err(ProviderError::IdempotencyKeyReused),
        "400 idempotency_error to a first send"
    );
    assert_eq!(s.fake.charges_of(19), 1);
}

#[tokio::test]
async fn a_429_and_a_500_are_unknown_and_the_resend_charges_once() {
    let s = setup(Duration::from_secs(5));
    s.fake.add_customer("cus_ok", Card::Succeeds);
    s.fake.fault_next(Fault::RateLimited { retry_after_s: 2 });
    s.fake.fault_next(Fault::ErrorBefore);
    let request = charge_request(20, "antaeus-20-0", Some("cus_ok"), None);
    assert_eq!(
        s.stripe.charge(&request).await,
        Err(ProviderError::Unavailable {
            status: 429,
            retry_after: Some(Duration::from_secs(2))
        })
    );
    assert_eq!(
        s.stripe.charge(&resent(&request, t0())).await,
        Err(ProviderError::Unavailable {
            status: 500,
            retry_after: None
        })
    );
    assert_eq!(s.fake.charges_of(20), 0);
    assert_eq!(
        s.stripe.charge(&resent(&request, t0())).await,
        charged("pi_000001")
    );
    assert_eq!(s.fake.charges_of(20), 1);
}

#[tokio::test]
async fn declines_carry_their_code_and_whether_the_customer_must_act() {
    let s = setup(Duration::from_secs(5));
    let cases = [
        (
            "cus_poor",
            Card::Declines("insufficient_funds"),
            "insufficient_funds",
            false,
        ),
        (
            "cus_sca",
            Card::NeedsAuthentication,
            "authentication_required",
            true,
        ),
        (
            "cus_3ds",
            Card::LeftRequiringAction,
            "requires_action",
            true,
        ),
    ];
    for (n, (customer, card, code, action_required)) in cases.into_iter().enumerate() {
        s.fake.add_customer(customer, card);
        let invoice = 30 + n as i64;
        let request = charge_request(
            invoice,
            &format!("antaeus-{invoice}-0"),
            Some(customer),
            None,
        );
        let got = s.stripe.charge(&request).await;
        assert!(
            matches!(
                &got,
                Ok(ChargeDecision::Declined { code: Some(c), action_required: a, provider_ref: Some(pi) })
                    if c == code && *a == action_required && pi.starts_with("pi_")
            ),
            "{customer}: {got:?}"
        );
        assert_eq!(s.fake.charges_of(invoice), 0);
    }
}

#[tokio::test]
async fn an_unknown_customer_is_customer_not_found_and_a_bad_key_is_never_a_decline() {
    let s = setup(Duration::from_secs(5));
    let with_method = charge_request(40, "antaeus-40-0", Some("cus_nobody"), Some("pm_1"));
    assert_eq!(
        s.stripe.charge(&with_method).await,
        Ok(ChargeDecision::CustomerNotFound)
    );
    let by_default = charge_request(41, "antaeus-41-0", Some("cus_nobody"), None);
    assert_eq!(
        s.stripe.charge(&by_default).await,
        Ok(ChargeDecision::CustomerNotFound)
    );

    let wrong_key = StripePaymentProvider::with_clock(
        &antaeus_app::provider::StripeConfig {
            secret_key: "sk_live_not_this_server".into(),
            ..stripe_config(&s.fake.url, Duration::from_secs(5))
        },
        s.clock.clone(),
    )
    .unwrap();
    let got = wrong_key.charge(&with_method).await;
    assert!(
        matches!(&got, Err(ProviderError::Unauthorized(why)) if why.contains("ANTAEUS_STRIPE_SECRET_KEY") && !why.contains("sk_live")),
        "401: {got:?}"
    );
}

#[tokio::test]
async fn a_processing_charge_is_asked_about_by_its_id_never_charged_again() {
    let s = setup(Duration::from_secs(5));
    s.fake.add_customer("cus_sepa", Card::ProcessesFor(2));
    let request = charge_request(50, "antaeus-50-0", Some("cus_sepa"), None);
    let first = s.stripe.charge(&request).await;
    assert_eq!(
        first,
        Err(ProviderError::Processing {
            provider_ref: Some("pi_000001".into())
        })
    );
    let later = ChargeRequest {
        provider_ref: Some("pi_000001".into()),
        ..resent(&request, t0())
    };
    assert!(matches!(
        s.stripe.charge(&later).await,
        Err(ProviderError::Processing { .. })
    ));
    s.clock.advance(TimeDelta::hours(30));
    assert_eq!(s.stripe.charge(&later).await, charged("pi_000001"));
    assert_eq!(
        s.fake.requests("create"),
        1,
        "asked about, never created again"
    );
    assert_eq!(s.fake.requests("retrieve"), 2);
    assert_eq!(s.fake.charges_of(50), 1);
}

#[tokio::test]
async fn a_key_older_than_23_hours_is_looked_up_before_it_is_sent_again() {
    let s = setup(Duration::from_millis(250));
    s.fake.add_customer("cus_ok", Card::Succeeds);
    // Charged, but the answer was lost; then Stripe forgets the key.
    s.fake
        .fault_next(Fault::SlowAnswer(Duration::from_millis(600)));
    let lost = charge_request(60, "antaeus-60-0", Some("cus_ok"), None);
    assert_eq!(s.stripe.charge(&lost).await, Err(ProviderError::Timeout));
    // Never reached Stripe.
    s.fake.fault_next(Fault::ErrorBefore);
    let unseen = charge_request(61, "antaeus-61-0", Some("cus_ok"), None);
    assert!(s.stripe.charge(&unseen).await.is_err());
    // A stored 500 that every resend replays.
    s.fake.fault_next(Fault::StoredError);
    let stuck = charge_request(62, "antaeus-62-0", Some("cus_ok"), None);
    assert!(matches!(
        s.stripe.charge(&stuck).await,
        Err(ProviderError::Protocol(_))
    ));
    assert!(matches!(
        s.stripe.charge(&resent(&stuck, t0())).await,
        Err(ProviderError::Protocol(_))
    ));

    // Within 23 hours nothing is looked up: Stripe remembers the key.
    s.clock.advance(TimeDelta::hours(22));
    assert!(s.stripe.charge(&resent(&stuck, t0())).await.is_err());
    assert_eq!(s.fake.requests("search"), 0);

    s.clock.advance(TimeDelta::hours(3));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        s.stripe.charge(&resent(&lost, t0())).await,
        charged("pi_000001"),
        "found by its key, not charged again"
    );
    assert_eq!(s.fake.charges_of(60), 1);
    let sent_again = s.stripe.charge(&resent(&unseen, t0())).await;
    assert!(
        matches!(sent_again, Ok(ChargeDecision::Charged { .. })),
        "{sent_again:?}"
    );
    assert_eq!(
        s.fake.charges_of(61),
        1,
        "nothing under the key: charged now, once"
    );
    assert_eq!(
        s.stripe.charge(&resent(&stuck, t0())).await,
        charged("pi_000002")
    );
    assert_eq!(s.fake.charges_of(62), 1);
    assert_eq!(s.fake.requests("search"), 3);
    assert!(s.fake.double_charged().is_empty());
}
