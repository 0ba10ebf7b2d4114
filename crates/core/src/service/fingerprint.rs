//! The fingerprint of a create request: what it asked for, field by field, so that a request
//! repeated under the same `Idempotency-Key` is recognised and a different one refused.

use std::fmt::Display;

/// Builds a fingerprint: the request's kind, then each field as `name=len:value;` (the length
/// keeps values that contain separators from running into one another). Stable across
/// versions as long as field names are.
#[derive(Debug, Clone)]
pub(crate) struct Fingerprint(String);

impl Fingerprint {
    /// A fingerprint of a request of `kind` (e.g. `customer`).
    pub(crate) fn of(kind: &str) -> Self {
        Self(format!("{kind};"))
    }

    /// Adds a field; `None` is recorded as absent, unlike an empty value.
    pub(crate) fn field(mut self, name: &str, value: Option<impl Display>) -> Self {
        match value {
            Some(value) => {
                let value = value.to_string();
                self.0.push_str(&format!("{name}={}:{value};", value.len()));
            }
            None => self.0.push_str(&format!("{name}=-;")),
        }
        self
    }

    /// The fingerprint's text.
    pub(crate) fn finish(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_told_apart_and_absent_is_not_empty() {
        let a = Fingerprint::of("x").field("a", Some("1;b=2")).finish();
        let b = Fingerprint::of("x")
            .field("a", Some("1"))
            .field("b", Some("2"))
            .finish();
        assert_ne!(a, b);
        let empty = Fingerprint::of("x").field("a", Some("")).finish();
        let absent = Fingerprint::of("x").field("a", None::<&str>).finish();
        assert_ne!(empty, absent);
        assert_eq!(a, Fingerprint::of("x").field("a", Some("1;b=2")).finish());
    }
}
