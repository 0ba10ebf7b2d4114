//! Stripe's webhooks read into Antaeus' provider events: the delivery verified against the
//! endpoint's secrets ([`signature`]), then its event read ([`events`]). The reader decides
//! nothing: what an event changes is core's to decide, through the state machine.

mod events;
mod objects;
mod signature;

use std::fmt;

use antaeus_core::provider_events::{WebhookDelivery, WebhookReader, WebhookRejected};
use chrono::{DateTime, Utc};

/// A [`WebhookReader`] for a Stripe webhook endpoint: verifies each delivery's
/// `Stripe-Signature` with the endpoint's secrets, then reads its event.
#[derive(Clone)]
pub struct StripeWebhookReader {
    secrets: Vec<String>,
}

impl StripeWebhookReader {
    /// A reader for an endpoint signing with `secrets` (`whsec_…`): one, or two while it is
    /// rotated. With none, every delivery is refused.
    pub fn new(secrets: Vec<String>) -> Self {
        Self { secrets }
    }
}

impl fmt::Debug for StripeWebhookReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeWebhookReader")
            .field(
                "secrets",
                &format_args!("<{} redacted>", self.secrets.len()),
            )
            .finish()
    }
}

impl WebhookReader for StripeWebhookReader {
    fn read(
        &self,
        signature: Option<&str>,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<WebhookDelivery, WebhookRejected> {
        // Nothing of the body is read before it is known to be Stripe's.
        signature::verify_any(&self.secrets, signature, body, now)?;
        events::read(body)
    }
}

#[cfg(test)]
mod tests {
    use antaeus_core::provider_events::{PaymentChange, PaymentRef, ProviderEvent};
    use antaeus_models::{Currency, InvoiceId};

    use super::*;
    use crate::notify::sign;

    const SECRET: &str = "whsec_localstripe_test";

    /// What localstripe 1.15.10 sent for a PaymentIntent that succeeded:
    /// `json.dumps(event._export(), indent=2, sort_keys=True)`, byte for byte.
    const LOCALSTRIPE_BODY: &[u8] =
        include_bytes!("fixtures/localstripe_payment_intent_succeeded.json");
    /// Its `Stripe-Signature`, computed by localstripe (Python's hmac) with [`SECRET`].
    const LOCALSTRIPE_SIGNATURE: &str =
        "t=1796534080,v1=6f80ac0ee96de6ee433a645de01188034f27dec6e8c955445051c581e565c8d1";
    /// The event's `created`, which localstripe signs as `t`.
    const LOCALSTRIPE_CREATED: i64 = 1_796_534_080;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn reader() -> StripeWebhookReader {
        StripeWebhookReader::new(vec!["whsec_previous_0123456789".into(), SECRET.into()])
    }

    #[test]
    fn a_localstripe_delivery_verifies_and_reads_as_the_payment_it_is() {
        let delivery = reader()
            .read(
                Some(LOCALSTRIPE_SIGNATURE),
                LOCALSTRIPE_BODY,
                at(LOCALSTRIPE_CREATED + 2),
            )
            .unwrap();
        assert_eq!(
            delivery,
            WebhookDelivery::Event(Box::new(ProviderEvent {
                id: "evt_MRbDHjeR3WpfrE".into(),
                kind: "payment_intent.succeeded".into(),
                payment: PaymentRef {
                    invoice: Some(InvoiceId::new(17).unwrap()),
                    key: Some("antaeus-a1b2c3d4e5f6-17-0".into()),
                    namespace: Some("a1b2c3d4e5f6".into()),
                    intent: Some("pi_ZmsvAtiz9qAWYD".into()),
                    amount_minor: Some(12_345),
                    currency: Some(Currency::EUR),
                },
                change: PaymentChange::Succeeded,
            }))
        );
    }

    #[test]
    fn a_delivery_is_refused_before_its_body_is_read() {
        let reader = reader();
        let late = at(LOCALSTRIPE_CREATED + 301);
        assert!(matches!(
            reader.read(Some(LOCALSTRIPE_SIGNATURE), LOCALSTRIPE_BODY, late),
            Err(WebhookRejected::BadSignature(_))
        ));
        assert!(matches!(
            reader.read(None, b"not json", at(LOCALSTRIPE_CREATED)),
            Err(WebhookRejected::BadSignature(_))
        ));
        let mut tampered = LOCALSTRIPE_BODY.to_vec();
        let at_amount = tampered.windows(5).position(|w| w == b"12345").unwrap();
        tampered[at_amount] = b'9';
        assert!(matches!(
            reader.read(
                Some(LOCALSTRIPE_SIGNATURE),
                &tampered,
                at(LOCALSTRIPE_CREATED)
            ),
            Err(WebhookRejected::BadSignature(_))
        ));
        let other = StripeWebhookReader::new(vec!["whsec_someone_else_0123".into()]);
        assert!(matches!(
            other.read(
                Some(LOCALSTRIPE_SIGNATURE),
                LOCALSTRIPE_BODY,
                at(LOCALSTRIPE_CREATED)
            ),
            Err(WebhookRejected::BadSignature(_))
        ));
    }

    #[test]
    fn a_signed_body_that_is_not_an_event_is_malformed() {
        let now = 1_764_547_200;
        for body in [
            &b"{\"id\":\"evt_1\",\"type\":\"payment_intent.succeeded\""[..],
            b"[]",
            br#"{"id":"evt_1","object":"charge","type":"charge.refunded","data":{"object":{}}}"#,
            br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"ch_1","object":"charge","status":"succeeded"}}}"#,
            br#"{"id":"evt_1","type":"charge.refunded","data":{"object":{"id":"ch_1","object":"charge"}}}"#,
        ] {
            let header = sign(SECRET.as_bytes(), now, body);
            let read = reader().read(Some(&header), body, at(now));
            assert!(
                matches!(read, Err(WebhookRejected::Malformed(_))),
                "{}: {read:?}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn its_debug_counts_the_secrets_and_shows_none() {
        let shown = format!("{:?}", reader());
        assert!(shown.contains("<2 redacted>"), "{shown}");
        assert!(!shown.contains("whsec_"), "{shown}");
    }
}
