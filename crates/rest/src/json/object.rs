//! `Object<T>`: a struct read from a JSON object only. serde's derive also reads a struct's
//! fields from an array, in order (`["EUR"]` as a customer), which no client means.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::MapAccessDeserializer;
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// `T`, read from a JSON object; anything else is "invalid type: …, expected a JSON object".
#[derive(Debug)]
pub struct Object<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OnlyMaps<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMaps<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(MapAccessDeserializer::new(map))
            }
        }

        deserializer
            .deserialize_map(OnlyMaps(PhantomData))
            .map(Object)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::Object;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Pair {
        a: u8,
        b: Option<u8>,
    }

    #[test]
    fn only_an_object_is_read() {
        let read = |json| serde_json::from_str::<Object<Pair>>(json).map(|o| o.0);
        assert_eq!(read(r#"{"a":1}"#).unwrap(), Pair { a: 1, b: None });
        assert!(read("[1, 2]").is_err(), "serde alone would take this");
        let err = read("[1]").unwrap_err().to_string();
        assert!(err.contains("expected a JSON object"), "{err}");
        assert!(read("\"a\"").is_err());
        assert!(read("null").is_err());
    }
}
