//! Idempotency keys of charge attempts.

use antaeus_models::{IdempotencyKey, InvoiceId};

/// The key for charging `invoice` under key sequence `seq`: `antaeus-<invoice>-<seq>`.
///
/// The sequence lives on the invoice row and advances only with a definitive decision, so every
/// resend of an attempt whose outcome is unknown carries the same key, and a new key is used
/// only once the provider's answer to the previous one is known.
pub fn charge_key(invoice: InvoiceId, seq: u32) -> IdempotencyKey {
    IdempotencyKey::parse(format!("antaeus-{invoice}-{seq}"))
        .expect("digits and dashes make a valid key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_invoice_and_the_sequence() {
        let id = InvoiceId::new(17).unwrap();
        assert_eq!(charge_key(id, 3).as_str(), "antaeus-17-3");
        assert_ne!(charge_key(id, 3), charge_key(id, 4));
        assert_ne!(
            charge_key(id, 1),
            charge_key(InvoiceId::new(1).unwrap(), 71)
        );
    }
}
