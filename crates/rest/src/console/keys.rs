//! The idempotency keys the console's forms carry, made fresh each time a form is rendered:
//! the same form sent twice sends the same key, so its action is done once.

use rand::RngCore;

/// A random 128-bit key, as a UUID-shaped hex string (version 4).
pub fn random_uuid() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The key of a refund form: `console-refund-<uuid>`.
pub fn refund_key() -> String {
    format!("console-refund-{}", random_uuid())
}

#[cfg(test)]
mod tests {
    use antaeus_models::IdempotencyKey;

    use super::*;

    #[test]
    fn each_form_gets_a_fresh_valid_key() {
        let (a, b) = (refund_key(), refund_key());
        assert_ne!(a, b);
        assert_eq!(a.len(), "console-refund-".len() + 36);
        assert!(IdempotencyKey::parse(a).is_ok());
    }
}
