//! What the simulator server remembers of each idempotency key: a fingerprint of the charge
//! first asked under it, so that the key reused for another charge is refused (422
//! `idempotency_key_reused`), as the protocol's provider must.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

use antaeus_models::{IdempotencyKey, Invoice};
use thiserror::Error;

/// The charge fingerprint of every key seen: sixteen bytes of table entry per key, however long
/// the key (a development tool keeps them all).
#[derive(Debug, Default)]
pub(super) struct KeyCharges {
    seen: Mutex<HashMap<u64, u64>>,
}

/// The key was first used for another charge.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("the idempotency key was first used for another charge")]
pub(super) struct KeyReused;

impl KeyCharges {
    /// Remembers `invoice` (its id, customer, amount and currency) as what `key` asks the first
    /// time the key is seen; later, refuses the key for anything else.
    pub(super) fn check(&self, key: &IdempotencyKey, invoice: &Invoice) -> Result<(), KeyReused> {
        let asked = charge_print(invoice);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let first = *seen.entry(key_print(key)).or_insert(asked);
        if first == asked {
            Ok(())
        } else {
            Err(KeyReused)
        }
    }
}

/// 64 bits of the key (the same in every run: SipHash with fixed keys).
fn key_print(key: &IdempotencyKey) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.as_str().hash(&mut hasher);
    hasher.finish()
}

/// 64 bits of what a charge asks: the invoice, its customer, and the exact amount.
fn charge_print(invoice: &Invoice) -> u64 {
    let mut hasher = DefaultHasher::new();
    invoice.id.get().hash(&mut hasher);
    invoice.customer_id.get().hash(&mut hasher);
    invoice.amount.to_minor().hash(&mut hasher);
    invoice.amount.currency().as_str().hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId, InvoiceId, InvoiceStatus, Money};

    use super::*;

    fn invoice(id: i64, customer: i64, minor: i64, currency: Currency) -> Invoice {
        Invoice::new(
            InvoiceId::new(id).unwrap(),
            CustomerId::new(customer).unwrap(),
            Money::from_minor(minor, currency).unwrap(),
            InvoiceStatus::Pending,
        )
    }

    #[test]
    fn a_key_is_refused_for_any_other_charge_and_accepted_for_its_own() {
        let keys = KeyCharges::default();
        let key = IdempotencyKey::parse("antaeus-5-0").unwrap();
        let first = invoice(5, 3, 12_345, Currency::EUR);
        assert_eq!(keys.check(&key, &first), Ok(()));
        for other in [
            invoice(6, 3, 12_345, Currency::EUR),
            invoice(5, 4, 12_345, Currency::EUR),
            invoice(5, 3, 12_346, Currency::EUR),
            invoice(5, 3, 12_345, Currency::USD),
        ] {
            assert_eq!(keys.check(&key, &other), Err(KeyReused), "{other:?}");
        }
        assert_eq!(keys.check(&key, &first), Ok(()), "the same charge again");
        let another_key = IdempotencyKey::parse("antaeus-5-1").unwrap();
        assert_eq!(
            keys.check(&another_key, &invoice(5, 3, 99, Currency::EUR)),
            Ok(())
        );
    }
}
