//! Whether a delivery came from Stripe: its `Stripe-Signature` header checked against every
//! endpoint secret.
//!
//! The scheme is the one Antaeus signs its own webhooks with ([`crate::notify::signature`]):
//! `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, several `v1` entries allowed,
//! other schemes (`v0`) ignored. While a secret is rotated the endpoint has two, and Stripe
//! signs with both: a delivery verifies when any `v1` entry matches any secret.

use antaeus_core::provider_events::WebhookRejected;
use chrono::{DateTime, Utc};

use crate::notify::{SignatureError, verify};

/// The header Stripe signs its deliveries in.
pub const SIGNATURE_HEADER: &str = "Stripe-Signature";

/// How far the signed time may be from now, either way: Stripe's own libraries' five minutes.
pub const TOLERANCE_SECS: i64 = 300;

/// Checks that `header` signs `body` with one of `secrets`, at most [`TOLERANCE_SECS`] from
/// `now`. The reason of a refusal never contains a secret.
pub fn verify_any(
    secrets: &[String],
    header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<(), WebhookRejected> {
    let refused = |reason: String| Err(WebhookRejected::BadSignature(reason));
    let Some(header) = header else {
        return refused(format!("no {SIGNATURE_HEADER} header"));
    };
    if secrets.is_empty() {
        return refused("no webhook secret is configured".into());
    }
    for secret in secrets {
        match verify(
            secret.as_bytes(),
            header,
            body,
            now.timestamp(),
            TOLERANCE_SECS,
        ) {
            Ok(()) => return Ok(()),
            Err(SignatureError::Mismatch) => {}
            // The header does not change with the secret, and a stale timestamp is one this
            // secret did sign: either is the answer for every secret.
            Err(other) => return refused(other.to_string()),
        }
    }
    refused(format!(
        "no v1 signature matches the body with any of the {} secrets",
        secrets.len()
    ))
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;
    use crate::notify::sign;

    const OLD: &str = "whsec_old_0123456789abcdef";
    const NEW: &str = "whsec_new_fedcba9876543210";
    const BODY: &[u8] = br#"{"id":"evt_1","object":"event"}"#;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    /// 2025-12-01T00:00:00Z.
    const T: i64 = 1_764_547_200;

    fn secrets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn refusal(result: Result<(), WebhookRejected>) -> String {
        match result {
            Err(WebhookRejected::BadSignature(reason)) => reason,
            other => panic!("expected a bad signature, got {other:?}"),
        }
    }

    #[test]
    fn a_signature_with_the_one_secret_verifies() {
        let header = sign(OLD.as_bytes(), T, BODY);
        assert_eq!(
            verify_any(&secrets(&[OLD]), Some(&header), BODY, at(T)),
            Ok(())
        );
    }

    #[test]
    fn during_a_rotation_either_secret_and_either_v1_entry_verifies() {
        let both = secrets(&[OLD, NEW]);
        for secret in [OLD, NEW] {
            let header = sign(secret.as_bytes(), T, BODY);
            assert_eq!(verify_any(&both, Some(&header), BODY, at(T)), Ok(()));
        }
        // Stripe signs with the old and the new secret in one header.
        let old = sign(OLD.as_bytes(), T, BODY);
        let new = sign(NEW.as_bytes(), T, BODY);
        let (_, new_tag) = new.split_once(",v1=").unwrap();
        let two = format!("{old},v1={new_tag},v0=00ff");
        assert_eq!(verify_any(&both, Some(&two), BODY, at(T)), Ok(()));
        assert_eq!(
            verify_any(&secrets(&[NEW]), Some(&two), BODY, at(T)),
            Ok(())
        );
        // Once the old secret is gone, what only it signed is refused.
        assert!(verify_any(&secrets(&[NEW]), Some(&old), BODY, at(T)).is_err());
    }

    #[test]
    fn a_tampered_body_or_a_wrong_secret_is_refused_without_showing_a_secret() {
        let header = sign(OLD.as_bytes(), T, BODY);
        let tampered = br#"{"id":"evt_2","object":"event"}"#;
        let reason = refusal(verify_any(
            &secrets(&[OLD, NEW]),
            Some(&header),
            tampered,
            at(T),
        ));
        assert!(reason.contains("no v1 signature matches"), "{reason}");
        let reason = refusal(verify_any(&secrets(&[NEW]), Some(&header), BODY, at(T)));
        assert!(!reason.contains("whsec_"), "{reason}");
    }

    #[test]
    fn a_signature_301_seconds_old_or_ahead_is_refused_300_is_not() {
        let header = sign(OLD.as_bytes(), T, BODY);
        let one = secrets(&[OLD]);
        for now in [T + 300, T - 300] {
            assert_eq!(verify_any(&one, Some(&header), BODY, at(now)), Ok(()));
        }
        for now in [T + 301, T - 301] {
            let reason = refusal(verify_any(&one, Some(&header), BODY, at(now)));
            assert!(reason.contains("300 s away"), "{reason}");
        }
        let late = at(T) + TimeDelta::hours(1);
        assert!(verify_any(&one, Some(&header), BODY, late).is_err());
    }

    #[test]
    fn no_header_a_malformed_one_or_no_secret_is_refused() {
        let header = sign(OLD.as_bytes(), T, BODY);
        let reason = refusal(verify_any(&secrets(&[OLD]), None, BODY, at(T)));
        assert!(reason.contains("no Stripe-Signature header"), "{reason}");
        for bad in ["", "t=soon,v1=00", "v1=00ff"] {
            let reason = refusal(verify_any(&secrets(&[OLD]), Some(bad), BODY, at(T)));
            assert!(reason.contains("malformed"), "{bad:?}: {reason}");
        }
        let reason = refusal(verify_any(&[], Some(&header), BODY, at(T)));
        assert!(reason.contains("no webhook secret"), "{reason}");
    }
}
