//! `visible_text!`: string newtypes of 1 to N visible ASCII characters (keys and ids that travel
//! in headers, URLs and logs).

/// Defines a newtype over `String` holding 1 to `$max` visible ASCII characters, with `MAX_LEN`,
/// `parse` (anything else is `ModelError::$error`), `as_str`, `AsRef<str>`, `Display` and
/// `FromStr`.
macro_rules! visible_text {
    (
        $(#[$meta:meta])*
        pub struct $name:ident (max $max:literal, $error:ident);
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The longest text accepted.
            pub const MAX_LEN: usize = $max;

            /// Parses the text: non-empty, at most [`Self::MAX_LEN`] characters, visible ASCII
            /// only (no spaces).
            pub fn parse(raw: impl Into<String>) -> Result<Self, $crate::ModelError> {
                let raw = raw.into();
                if raw.is_empty()
                    || raw.len() > Self::MAX_LEN
                    || !raw.bytes().all(|b| b.is_ascii_graphic())
                {
                    return Err($crate::ModelError::$error(raw));
                }
                Ok(Self(raw))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::ModelError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}
