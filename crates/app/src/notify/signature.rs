//! Webhook signatures: how a receiver knows a request came from Antaeus and is recent.
//!
//! The scheme is Stripe's. The `Antaeus-Signature` header is `t=<unix seconds>,v1=<mac>`, where
//! `<mac>` is the lowercase hex HMAC-SHA256, keyed with the shared secret, of the bytes
//! `"<unix seconds>.<raw request body>"`. Signing the timestamp together with the body means a
//! captured request cannot be replayed once it is older than the receiver's tolerance, nor
//! re-dated without the secret.
//!
//! A receiver verifies the raw body bytes, before parsing them, with [`verify`]. Like Stripe's,
//! the header may carry several `v1` entries and entries of other schemes, which are ignored; it
//! matches if any `v1` entry does. While `ANTAEUS_WEBHOOK_SECRET` lists two secrets (a rotation),
//! [`sign_with_each`] writes one `v1` entry per secret, in the configured order, so receivers
//! holding either secret verify. Only the body
//! is signed: the `Antaeus-Event-Id` and `Antaeus-Event-Type` headers are conveniences, and a
//! receiver should trust the verified body's `id` and `type`.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

/// The name of the header that carries the signature.
pub const SIGNATURE_HEADER: &str = "Antaeus-Signature";

/// The tolerance we suggest receivers pass to [`verify`]: five minutes, as Stripe's.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    /// The header is not `t=<unix seconds>,v1=<hex>[,...]`.
    #[error("malformed signature header: {0}")]
    MalformedHeader(&'static str),
    /// The signature is authentic but its timestamp is too far from now (a replay, or a clock off).
    #[error(
        "signature timestamp {timestamp} is more than {tolerance_secs} s away from now ({now})"
    )]
    OutsideTolerance {
        /// The signed timestamp, in unix seconds.
        timestamp: i64,
        /// The receiver's current time, in unix seconds.
        now: i64,
        /// The largest accepted difference, in seconds.
        tolerance_secs: i64,
    },
    /// No signature in the header matches the body, timestamp and secret.
    #[error("signature does not match")]
    Mismatch,
}

/// The `Antaeus-Signature` header value for `body` sent at `timestamp` (unix seconds).
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    sign_with_each(&[secret], timestamp, body)
}

/// The `Antaeus-Signature` header value signing `body` with each of `secrets`: one `v1` entry
/// per secret, in order (`t=<t>,v1=<mac 1>,v1=<mac 2>`); with one secret, the same as [`sign`].
pub fn sign_with_each<S: AsRef<[u8]>>(secrets: &[S], timestamp: i64, body: &[u8]) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let tag = keyed(secret.as_ref(), timestamp, body)
            .finalize()
            .into_bytes();
        header.push_str(",v1=");
        header.push_str(&to_hex(&tag));
    }
    header
}

/// Checks that `header` signs `body` with `secret`, at a time within `tolerance_secs` of `now`
/// (unix seconds, either direction). Compares MACs in constant time.
pub fn verify(
    secret: &[u8],
    header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let parsed = ParsedHeader::parse(header)?;
    let authentic = parsed.signatures.iter().any(|tag| {
        keyed(secret, parsed.timestamp, body)
            .verify_slice(tag)
            .is_ok()
    });
    if !authentic {
        return Err(SignatureError::Mismatch);
    }
    check_tolerance(parsed.timestamp, now, tolerance_secs)
}

/// The MAC state after absorbing `"<timestamp>.<body>"`.
fn keyed(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first), so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// Accepts `timestamp` if it is at most `tolerance_secs` away from `now`; a negative tolerance
/// accepts only `now` itself.
fn check_tolerance(timestamp: i64, now: i64, tolerance_secs: i64) -> Result<(), SignatureError> {
    let allowed = u64::try_from(tolerance_secs).unwrap_or(0);
    if timestamp.abs_diff(now) > allowed {
        return Err(SignatureError::OutsideTolerance {
            timestamp,
            now,
            tolerance_secs,
        });
    }
    Ok(())
}

/// The parts of a signature header that matter.
struct ParsedHeader {
    timestamp: i64,
    signatures: Vec<Vec<u8>>,
}

impl ParsedHeader {
    /// Reads `t=...,v1=...` entries; unknown keys are skipped so new schemes can be added.
    fn parse(header: &str) -> Result<Self, SignatureError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for entry in header.split(',') {
            let (key, value) = entry
                .trim()
                .split_once('=')
                .ok_or(SignatureError::MalformedHeader("an entry is not key=value"))?;
            match key {
                "t" if timestamp.is_some() => {
                    return Err(SignatureError::MalformedHeader("more than one timestamp"));
                }
                "t" => timestamp = Some(parse_timestamp(value)?),
                "v1" => signatures
                    .push(from_hex(value).ok_or(SignatureError::MalformedHeader("v1 is not hex"))?),
                _ => {}
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::MalformedHeader("no timestamp"))?;
        if signatures.is_empty() {
            return Err(SignatureError::MalformedHeader("no v1 signature"));
        }
        Ok(Self {
            timestamp,
            signatures,
        })
    }
}

/// Unix seconds, as decimal digits (a leading `-` allowed, `+` and spaces not).
fn parse_timestamp(value: &str) -> Result<i64, SignatureError> {
    if value.starts_with('+') {
        return Err(SignatureError::MalformedHeader("t is not an integer"));
    }
    value
        .parse()
        .map_err(|_| SignatureError::MalformedHeader("t is not an integer"))
}

/// Lowercase hex.
fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        hex.push(char::from(DIGITS[usize::from(byte >> 4)]));
        hex.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    hex
}

/// The bytes of an even-length hex string (either case); `None` if it is not one.
fn from_hex(hex: &str) -> Option<Vec<u8>> {
    let digits = hex.as_bytes();
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| Some((nibble(pair[0])? << 4) | nibble(pair[1])?))
        .collect()
}

/// The value of one hex digit.
fn nibble(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1"}"#;
    /// 2025-12-01T00:00:00Z.
    const T: i64 = 1_764_547_200;

    #[test]
    fn signs_like_an_independent_hmac_sha256() {
        // python3 -c "import hmac,hashlib;
        //   print(hmac.new(b'whsec_test_secret', b'1764547200.{\"id\":\"evt_1\"}',
        //   hashlib.sha256).hexdigest())"
        assert_eq!(
            sign(SECRET, T, BODY),
            "t=1764547200,v1=ff0063983d05de114c429e9d03a853da19b00176e0aa3bf7e184ee12aa5572e1"
        );
    }

    #[test]
    fn during_a_rotation_each_secret_adds_a_v1_entry_and_either_verifies() {
        const NEW: &[u8] = b"whsec_new_secret";
        assert_eq!(
            sign_with_each(&[SECRET], T, BODY),
            sign(SECRET, T, BODY),
            "one secret: the header is unchanged"
        );
        let header = sign_with_each(&[SECRET, NEW], T, BODY);
        let old_tag = sign(SECRET, T, BODY);
        let new_tag = sign(NEW, T, BODY);
        assert_eq!(
            header,
            format!("{old_tag},v1={}", new_tag.split_once(",v1=").unwrap().1)
        );
        for secret in [SECRET, NEW] {
            assert_eq!(verify(secret, &header, BODY, T, 300), Ok(()));
        }
        assert_eq!(
            verify(b"whsec_neither", &header, BODY, T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn hex_encoding_matches_a_well_known_hmac_vector() {
        // python3: hmac.new(b'key', b'The quick brown fox jumps over the lazy dog',
        //   hashlib.sha256).hexdigest()
        let mut mac = HmacSha256::new_from_slice(b"key").unwrap();
        mac.update(b"The quick brown fox jumps over the lazy dog");
        assert_eq!(
            to_hex(&mac.finalize().into_bytes()),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn a_fresh_signature_verifies() {
        let header = sign(SECRET, T, BODY);
        assert_eq!(verify(SECRET, &header, BODY, T, 300), Ok(()));
        assert_eq!(verify(SECRET, &header, BODY, T + 300, 300), Ok(()));
        assert_eq!(verify(SECRET, &header, BODY, T - 300, 300), Ok(()));
    }

    #[test]
    fn a_tampered_body_timestamp_or_secret_does_not_verify() {
        let header = sign(SECRET, T, BODY);
        let other_body = br#"{"id":"evt_2"}"#;
        assert_eq!(
            verify(SECRET, &header, other_body, T, 300),
            Err(SignatureError::Mismatch)
        );
        let redated = header.replace("t=1764547200", "t=1764547260");
        assert_eq!(
            verify(SECRET, &redated, BODY, T + 60, 300),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"another secret", &header, BODY, T, 300),
            Err(SignatureError::Mismatch)
        );
        let mut flipped = header.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(
            verify(SECRET, &flipped, BODY, T, 300),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_replay_outside_the_tolerance_is_refused_either_way() {
        let header = sign(SECRET, T, BODY);
        let expected = |now| SignatureError::OutsideTolerance {
            timestamp: T,
            now,
            tolerance_secs: 300,
        };
        assert_eq!(
            verify(SECRET, &header, BODY, T + 301, 300),
            Err(expected(T + 301))
        );
        assert_eq!(
            verify(SECRET, &header, BODY, T - 301, 300),
            Err(expected(T - 301))
        );
    }

    #[test]
    fn extreme_timestamps_and_tolerances_do_not_overflow() {
        let header = sign(SECRET, i64::MIN, BODY);
        assert!(matches!(
            verify(SECRET, &header, BODY, i64::MAX, i64::MAX),
            Err(SignatureError::OutsideTolerance { .. })
        ));
        let header = sign(SECRET, T, BODY);
        assert!(matches!(
            verify(SECRET, &header, BODY, T + 1, -5),
            Err(SignatureError::OutsideTolerance { .. })
        ));
    }

    #[test]
    fn any_matching_v1_entry_verifies_and_unknown_schemes_are_ignored() {
        let good = sign(SECRET, T, BODY);
        let good_tag = good.split_once(",v1=").unwrap().1;
        let rotated = format!("t={T}, v0=abcd, v1={}, v1={good_tag}", "00".repeat(32));
        assert_eq!(verify(SECRET, &rotated, BODY, T, 300), Ok(()));
        let uppercase = format!("t={T},v1={}", good_tag.to_uppercase());
        assert_eq!(verify(SECRET, &uppercase, BODY, T, 300), Ok(()));
    }

    #[test]
    fn malformed_headers_are_reported_as_such() {
        let tag = "ab".repeat(32);
        for header in [
            String::new(),
            "garbage".to_owned(),
            format!("v1={tag}"),
            format!("t={T}"),
            format!("t=soon,v1={tag}"),
            format!("t=+{T},v1={tag}"),
            format!("t={T},t={T},v1={tag}"),
            format!("t={T},v1=xyz"),
            format!("t={T},v1=abc"),
            format!("t={T},v1="),
            format!("t={T},v1=éé"),
        ] {
            assert!(
                matches!(
                    verify(SECRET, &header, BODY, T, 300),
                    Err(SignatureError::MalformedHeader(_))
                ),
                "{header:?} should be malformed"
            );
        }
    }

    #[test]
    fn hex_round_trips() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(from_hex(&to_hex(&bytes)), Some(bytes));
    }
}
