//! PATCH fields that tell an absent key from `null` (JSON Merge Patch, RFC 7396): absent
//! leaves the field as it is, `null` clears it, a value sets it.

use serde::{Deserialize, Deserializer};

/// Deserializes a present key as `Some(value)` (`Some(None)` for `null`); with
/// `#[serde(default)]`, an absent key stays `None`.
pub fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Patch {
        #[serde(default, deserialize_with = "super::present")]
        name: Option<Option<String>>,
    }

    #[test]
    fn absent_null_and_a_value_are_three_things() {
        let parse = |json| serde_json::from_str::<Patch>(json).unwrap().name;
        assert_eq!(parse("{}"), None);
        assert_eq!(parse(r#"{"name":null}"#), Some(None));
        assert_eq!(parse(r#"{"name":"Acme"}"#), Some(Some("Acme".into())));
        assert!(serde_json::from_str::<Patch>(r#"{"name":5}"#).is_err());
    }
}
