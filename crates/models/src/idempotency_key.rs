use std::fmt;

use crate::ModelError;

/// A key that makes a request safe to repeat: 1 to 255 visible ASCII characters.
///
/// The same key identifies the same request (a charge attempt, a billing run), so a repeated
/// delivery is answered from what the first one did instead of doing it again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest key accepted.
    pub const MAX_LEN: usize = 255;

    /// Parses a key: non-empty, at most [`Self::MAX_LEN`] characters, visible ASCII only.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ModelError> {
        let raw = raw.into();
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ModelError::InvalidIdempotencyKey(raw));
        }
        Ok(Self(raw))
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for IdempotencyKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
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
