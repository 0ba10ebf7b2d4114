visible_text! {
    /// A key that makes a request safe to repeat: 1 to 255 visible ASCII characters.
    ///
    /// The same key identifies the same request (a charge attempt, a billing run), so a repeated
    /// delivery is answered from what the first one did instead of doing it again.
    pub struct IdempotencyKey (max 255, InvalidIdempotencyKey);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_visible_ascii_up_to_255() {
        assert!(IdempotencyKey::parse("antaeus-17-3").is_ok());
        assert!(IdempotencyKey::parse("a".repeat(255)).is_ok());
    }

    #[test]
    fn rejects_empty_long_spaces_and_non_ascii() {
        for bad in [
            String::new(),
            "a".repeat(256),
            "a b".into(),
            "ключ".into(),
            "a\n".into(),
        ] {
            assert!(IdempotencyKey::parse(bad.clone()).is_err(), "{bad:?}");
        }
    }
}
