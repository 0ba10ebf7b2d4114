//! The payment event service with mocked storage: which events are the deployment's, and what
//! each writes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use antaeus_models::{Currency, CustomerId, EventKind, Invoice, InvoiceId, InvoiceStatus, Money};
use chrono::{DateTime, Utc};

use super::*;
use crate::ManualClock;
use crate::billing::{ChargeState, charge_key};
use crate::payment_provider::MockPaymentProvider;
use crate::provider_events::{PaymentRef, WebhookRejected};
use crate::store::{
    InvoiceChange, MockPaymentStore, PaymentView, PaymentWrite, PaymentWriteOutcome,
};

const NS: &str = "a1b2c3d4e5f6";

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-02T00:00:00Z")
        .unwrap()
        .to_utc()
}

fn id() -> InvoiceId {
    InvoiceId::new(17).unwrap()
}

/// Invoice 17 (12.34 EUR) in `status`, whose key 0 was sent and declined (the customer must
/// authenticate PaymentIntent `pi_1`), and whose key 1 is current.
fn view(status: InvoiceStatus) -> PaymentView {
    let mut invoice = Invoice::new(
        id(),
        CustomerId::new(3).unwrap(),
        Money::from_minor(1_234, Currency::EUR).unwrap(),
        status,
    );
    invoice.attempts = 1;
    PaymentView {
        invoice,
        state: ChargeState {
            key_seq: 1,
            declines: 1,
            unknown_streak: 0,
        },
        fence: 1,
        key_namespace: None,
        open_intent: Some("pi_1".into()),
        payment_ref: None,
        keys: vec![(charge_key(NS, id(), 0).to_string(), Some("pi_1".into()))],
    }
}

fn event(change: PaymentChange, payment: PaymentRef) -> ProviderEvent {
    ProviderEvent {
        id: "evt_1".into(),
        kind: "payment_intent.succeeded".into(),
        payment,
        change,
    }
}

/// How Stripe names invoice 17's first PaymentIntent.
fn first_intent() -> PaymentRef {
    PaymentRef {
        invoice: Some(id()),
        key: Some(charge_key(NS, id(), 0).to_string()),
        namespace: Some(NS.into()),
        intent: Some("pi_1".into()),
        amount_minor: Some(1_234),
        currency: Some(Currency::EUR),
    }
}

/// What a test service's store was given.
type Recorded<T> = Arc<Mutex<Vec<T>>>;

/// A service on a store that holds `view` and records the writes and notes it is given.
fn service(
    view: Option<PaymentView>,
    outcomes: Vec<PaymentWriteOutcome>,
) -> (
    PaymentEventService,
    Recorded<PaymentWrite>,
    Recorded<String>,
) {
    let mut store = MockPaymentStore::new();
    store.expect_deployment_id().returning(|| Ok(NS.into()));
    store
        .expect_payment_view()
        .returning(move |_| Ok(view.clone()));
    store.expect_invoice_of_payment().returning(|_| Ok(None));
    let writes = Arc::new(Mutex::new(Vec::new()));
    let w = writes.clone();
    let outcomes = Mutex::new(outcomes);
    store.expect_write_payment().returning(move |write| {
        w.lock().unwrap().push(write.clone());
        let mut outcomes = outcomes.lock().unwrap();
        Ok(if outcomes.is_empty() {
            PaymentWriteOutcome::Applied
        } else {
            outcomes.remove(0)
        })
    });
    let notes = Arc::new(Mutex::new(Vec::new()));
    let n = notes.clone();
    store.expect_note_event().returning(move |event, _, _| {
        n.lock().unwrap().push(event.outcome.clone());
        Ok(true)
    });
    let service = PaymentEventService::new(
        PaymentEventDeps {
            store: Arc::new(store),
            refunds: Arc::new(crate::store::MockRefundStore::new()),
            reader: None,
            provider: Arc::new(MockPaymentProvider::new()),
            clock: Arc::new(ManualClock::new(t0())),
        },
        RetryPolicy::default(),
        Duration::from_secs(1),
    );
    (service, writes, notes)
}

#[tokio::test]
async fn a_payment_the_customer_completed_later_pays_the_invoice_once_announced() {
    let (service, writes, _) = service(Some(view(InvoiceStatus::Pending)), vec![]);
    let got = service
        .apply(&event(PaymentChange::Succeeded, first_intent()))
        .await
        .unwrap();
    assert!(matches!(got, Received::Applied(_)), "{got:?}");
    let writes = writes.lock().unwrap();
    assert_eq!(writes.len(), 1);
    let write = &writes[0];
    assert_eq!(write.event.as_ref().unwrap().id, "evt_1");
    assert_eq!(
        (write.expected_status, write.expected_fence),
        (InvoiceStatus::Pending, 1)
    );
    let InvoiceChange::Move {
        transition,
        payment,
    } = &write.change
    else {
        panic!("{:?}", write.change);
    };
    assert_eq!(transition.status, InvoiceStatus::Paid);
    assert_eq!(payment, "pi_1");
    let told = write.notification.as_ref().unwrap();
    assert_eq!(told.kind, EventKind::Paid);
    assert_eq!(
        told.data.invoice.as_ref().unwrap().charge_id.as_deref(),
        Some("pi_1")
    );
    let note = write.attempt.as_ref().unwrap();
    assert_eq!(note.key, charge_key(NS, id(), 0).to_string());
    assert_eq!(note.outcome, Some(antaeus_models::AttemptOutcome::Charged));
}

#[tokio::test]
async fn payments_that_are_not_this_deployments_change_nothing() {
    let foreign_namespace = PaymentRef {
        namespace: Some("ffffffffffff".into()),
        key: Some(charge_key("ffffffffffff", id(), 0).to_string()),
        ..first_intent()
    };
    let never_sent = PaymentRef {
        key: Some(charge_key(NS, id(), 5).to_string()),
        ..first_intent()
    };
    let other_amount = PaymentRef {
        amount_minor: Some(999),
        ..first_intent()
    };
    let other_currency = PaymentRef {
        currency: Some(Currency::USD),
        ..first_intent()
    };
    for payment in [foreign_namespace, never_sent, other_amount, other_currency] {
        let (service, writes, notes) = service(Some(view(InvoiceStatus::Pending)), vec![]);
        let got = service
            .apply(&event(PaymentChange::Succeeded, payment.clone()))
            .await
            .unwrap();
        assert!(matches!(got, Received::Ignored(_)), "{payment:?}: {got:?}");
        assert!(writes.lock().unwrap().is_empty(), "{payment:?}");
        assert_eq!(notes.lock().unwrap().len(), 1, "recorded, as ignored");
    }
}

#[tokio::test]
async fn news_of_an_invoice_being_charged_is_refused_for_a_later_delivery() {
    let (service, writes, _) = service(Some(view(InvoiceStatus::Charging)), vec![]);
    let got = service
        .apply(&event(PaymentChange::Succeeded, first_intent()))
        .await;
    assert!(
        matches!(got, Err(ServiceError::InvoiceCharging(_))),
        "{got:?}"
    );
    assert!(writes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_write_that_lost_a_race_is_made_again_from_a_fresh_read_and_a_redelivery_is_a_duplicate()
{
    let (racing, writes, _) = service(
        Some(view(InvoiceStatus::Pending)),
        vec![PaymentWriteOutcome::Conflict, PaymentWriteOutcome::Applied],
    );
    let first = racing
        .apply(&event(PaymentChange::Succeeded, first_intent()))
        .await
        .unwrap();
    assert!(matches!(first, Received::Applied(_)));
    assert_eq!(
        writes.lock().unwrap().len(),
        2,
        "tried again after the conflict"
    );

    let (redelivered, _, _) = service(
        Some(view(InvoiceStatus::Pending)),
        vec![PaymentWriteOutcome::AlreadyHandled],
    );
    let again = redelivered
        .apply(&event(PaymentChange::Succeeded, first_intent()))
        .await
        .unwrap();
    assert_eq!(again, Received::Duplicate);
}

#[tokio::test]
async fn a_second_payment_of_a_paid_invoice_is_announced_as_a_double_charge() {
    let mut paid = view(InvoiceStatus::Paid);
    paid.payment_ref = Some("pi_2".into());
    let (service, writes, _) = service(Some(paid), vec![]);
    service
        .apply(&event(PaymentChange::Succeeded, first_intent()))
        .await
        .unwrap();
    let writes = writes.lock().unwrap();
    assert_eq!(writes[0].change, InvoiceChange::ExtraCharge);
    let told = writes[0].notification.as_ref().unwrap();
    assert_eq!(told.kind, EventKind::DoubleCharged);
    assert_eq!(
        told.data
            .invoice
            .as_ref()
            .unwrap()
            .payment_intent_id
            .as_deref(),
        Some("pi_1")
    );
}

#[tokio::test]
async fn webhooks_without_a_secret_are_off_and_a_bad_signature_changes_nothing() {
    let (service, _, _) = service(None, vec![]);
    assert!(matches!(
        service.receive(Some("t=1,v1=00"), b"{}").await,
        Err(ServiceError::WebhooksOff)
    ));

    struct Refusing;
    impl WebhookReader for Refusing {
        fn read(
            &self,
            _: Option<&str>,
            _: &[u8],
            _: DateTime<Utc>,
        ) -> Result<WebhookDelivery, WebhookRejected> {
            Err(WebhookRejected::BadSignature("no v1 matches".into()))
        }
    }
    let mut store = MockPaymentStore::new();
    store.expect_write_payment().never();
    store.expect_note_event().never();
    let refusing = PaymentEventService::new(
        PaymentEventDeps {
            store: Arc::new(store),
            refunds: Arc::new(crate::store::MockRefundStore::new()),
            reader: Some(Arc::new(Refusing)),
            provider: Arc::new(MockPaymentProvider::new()),
            clock: Arc::new(ManualClock::new(t0())),
        },
        RetryPolicy::default(),
        Duration::from_secs(1),
    );
    assert!(matches!(
        refusing.receive(Some("t=1,v1=00"), b"{}").await,
        Err(ServiceError::WebhookRejected(_))
    ));
}
