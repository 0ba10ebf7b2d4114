//! Idempotency keys of charge attempts.

use antaeus_models::{IdempotencyKey, InvoiceId};

/// The key for charging `invoice` under key sequence `seq` in the deployment `namespace`:
/// `antaeus-<namespace>-<invoice>-<seq>`, or `antaeus-<invoice>-<seq>` for an empty namespace
/// (the form before deployments had ids, which a key sent in it keeps until it advances).
///
/// The sequence lives on the invoice row and advances only with a definitive decision, so every
/// resend of an attempt whose outcome is unknown carries the same key, and a new key is used
/// only once the provider's answer to the previous one is known. The namespace (an id made once
/// per database) keeps two deployments charging through one provider account (staging beside
/// production, a restored copy) from ever sending the same key.
pub fn charge_key(namespace: &str, invoice: InvoiceId, seq: u32) -> IdempotencyKey {
    let key = if namespace.is_empty() {
        format!("antaeus-{invoice}-{seq}")
    } else {
        format!("antaeus-{namespace}-{invoice}-{seq}")
    };
    IdempotencyKey::parse(key).expect("a namespace of visible ASCII makes a valid key")
}

/// The invoice and sequence a charge key names, and its namespace (`""` for the form before
/// namespaces); `None` for a key Antaeus did not make.
pub fn parse_charge_key(key: &str) -> Option<(String, InvoiceId, u32)> {
    let rest = key.strip_prefix("antaeus-")?;
    let mut parts: Vec<&str> = rest.split('-').collect();
    let seq: u32 = parts.pop()?.parse().ok()?;
    let invoice: InvoiceId = parts.pop()?.parse().ok()?;
    match parts.as_slice() {
        [] => Some((String::new(), invoice, seq)),
        [namespace] if !namespace.is_empty() => Some(((*namespace).to_owned(), invoice, seq)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_the_deployment_the_invoice_and_the_sequence() {
        let id = InvoiceId::new(17).unwrap();
        assert_eq!(
            charge_key("a1b2c3d4e5f6", id, 3).as_str(),
            "antaeus-a1b2c3d4e5f6-17-3"
        );
        assert_eq!(charge_key("", id, 3).as_str(), "antaeus-17-3");
        assert_ne!(charge_key("a1b2c3d4", id, 3), charge_key("a1b2c3d4", id, 4));
        assert_ne!(
            charge_key("a1b2c3d4", id, 1),
            charge_key("a1b2c3d4", InvoiceId::new(1).unwrap(), 71)
        );
        assert_ne!(
            charge_key("a1b2c3d4", id, 1),
            charge_key("e5f6a7b8", id, 1),
            "two deployments never share a key"
        );
    }

    #[test]
    fn keys_parse_back_into_what_they_name() {
        let id = InvoiceId::new(17).unwrap();
        for ns in ["", "a1b2c3d4e5f6"] {
            let key = charge_key(ns, id, 3);
            assert_eq!(parse_charge_key(key.as_str()), Some((ns.to_owned(), id, 3)));
        }
        for foreign in [
            "antaeus-x",
            "pi_123",
            "antaeus-a-b-17-3",
            "antaeus--17-3",
            "other-17-3",
        ] {
            assert_eq!(parse_charge_key(foreign), None, "{foreign}");
        }
    }
}
