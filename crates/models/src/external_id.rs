visible_text! {
    /// The SaaS's own id for a customer or an invoice (`acme-42`, `inv-2026-12-acme-42`): 1 to
    /// 255 visible ASCII characters. Unique per customer for invoices, unique for customers, so
    /// that creating or importing the same thing twice finds it instead of making a copy.
    pub struct ExternalId (max 255, InvalidExternalId);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_visible_ascii_up_to_255_and_rejects_the_rest() {
        assert_eq!(ExternalId::parse("acme-42").unwrap().as_str(), "acme-42");
        assert!(ExternalId::parse("x".repeat(255)).is_ok());
        for bad in [
            String::new(),
            "a b".into(),
            "x".repeat(256),
            "é".into(),
            "a\t".into(),
        ] {
            assert!(ExternalId::parse(bad.clone()).is_err(), "{bad:?}");
        }
    }
}
