//! A set of accepted tokens: one, or several while a token is rotated.
//!
//! `ANTAEUS_API_TOKEN=old,new` accepts either, so clients move to the new token before the old
//! one is removed. A presented token is compared with every entry in constant time and without
//! an early exit, so the time taken says nothing about which entry, or how much of one, matched.

use std::fmt;

use crate::auth::same_secret;

/// The longest token accepted.
pub const MAX_TOKEN_LEN: usize = 512;

/// The most tokens one variable may list (two are enough for a rotation).
pub const MAX_TOKENS: usize = 8;

/// The tokens one role accepts; empty when none is configured. `Debug` shows only how many.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Tokens(Vec<String>);

/// Why a configured list of tokens is refused. Messages never quote a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokensError {
    /// Two commas in a row, or a comma at either end.
    #[error(
        "token {position} of {count} is empty: separate tokens with single commas, none at either end"
    )]
    Empty {
        /// 1-based.
        position: usize,
        /// How many entries the list has.
        count: usize,
    },
    /// A space, tab, newline or other non-visible character (spaces around commas included).
    #[error(
        "token {position} of {count} holds whitespace or a non-visible character: a token is 1 to {MAX_TOKEN_LEN} visible ASCII characters, and tokens are separated by commas without spaces"
    )]
    NotVisible {
        /// 1-based.
        position: usize,
        /// How many entries the list has.
        count: usize,
    },
    /// Longer than [`MAX_TOKEN_LEN`].
    #[error("token {position} of {count} is longer than {MAX_TOKEN_LEN} characters")]
    TooLong {
        /// 1-based.
        position: usize,
        /// How many entries the list has.
        count: usize,
    },
    /// More than [`MAX_TOKENS`] entries.
    #[error("{0} tokens listed: at most {MAX_TOKENS} (two are enough to rotate one)")]
    TooMany(usize),
}

impl Tokens {
    /// Parses a comma-separated list: each entry 1 to [`MAX_TOKEN_LEN`] visible ASCII
    /// characters (no spaces), at most [`MAX_TOKENS`] entries.
    pub fn parse(list: &str) -> Result<Self, TokensError> {
        let entries: Vec<&str> = list.split(',').collect();
        let count = entries.len();
        if count > MAX_TOKENS {
            return Err(TokensError::TooMany(count));
        }
        for (i, entry) in entries.iter().enumerate() {
            let position = i + 1;
            if entry.is_empty() {
                return Err(TokensError::Empty { position, count });
            }
            if !entry.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(TokensError::NotVisible { position, count });
            }
            if entry.len() > MAX_TOKEN_LEN {
                return Err(TokensError::TooLong { position, count });
            }
        }
        Ok(Self(entries.into_iter().map(str::to_owned).collect()))
    }

    /// No token at all: what an unset variable means.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether no token is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `given` is one of the tokens. Every entry is compared, whatever the others answer.
    pub fn accepts(&self, given: &str) -> bool {
        self.0.iter().fold(false, |any, token| {
            any | same_secret(given.as_bytes(), token.as_bytes())
        })
    }

    /// Each token, in the configured order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.len() {
            0 => f.write_str("[unset]"),
            1 => f.write_str("[set]"),
            n => write!(f, "[{n} set]"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_token_is_accepted_and_nothing_else() {
        let tokens = Tokens::parse("old-token,new-token").unwrap();
        assert!(tokens.accepts("old-token"));
        assert!(tokens.accepts("new-token"));
        for other in ["", "old-token,new-token", "old", "new-token2", "OLD-TOKEN"] {
            assert!(!tokens.accepts(other), "{other:?}");
        }
        assert!(!Tokens::none().accepts(""));
        assert_eq!(
            Tokens::parse("only").unwrap().iter().collect::<Vec<_>>(),
            ["only"]
        );
    }

    #[test]
    fn empty_entries_whitespace_long_tokens_and_long_lists_are_refused() {
        let empty = |position, count| Err(TokensError::Empty { position, count });
        assert_eq!(Tokens::parse("a,,b"), empty(2, 3));
        assert_eq!(Tokens::parse("a,"), empty(2, 2));
        assert_eq!(Tokens::parse(",a"), empty(1, 2));
        let blank = |position, count| Err(TokensError::NotVisible { position, count });
        assert_eq!(Tokens::parse("a, b"), blank(2, 2));
        assert_eq!(Tokens::parse("a ,b"), blank(1, 2));
        assert_eq!(Tokens::parse("a\n"), blank(1, 1));
        assert_eq!(Tokens::parse("tok\u{e9}"), blank(1, 1));
        assert_eq!(
            Tokens::parse(&format!("a,{}", "x".repeat(MAX_TOKEN_LEN + 1))),
            Err(TokensError::TooLong {
                position: 2,
                count: 2
            })
        );
        assert!(Tokens::parse(&"x".repeat(MAX_TOKEN_LEN)).is_ok());
        assert_eq!(
            Tokens::parse(&["t"; MAX_TOKENS + 1].join(",")),
            Err(TokensError::TooMany(MAX_TOKENS + 1))
        );
    }

    #[test]
    fn neither_debug_nor_errors_show_a_token() {
        let tokens = Tokens::parse("s3cret-a,s3cret-b").unwrap();
        assert_eq!(format!("{tokens:?}"), "[2 set]");
        let err = Tokens::parse("s3cret-a, s3cret-b").unwrap_err().to_string();
        assert!(!err.contains("s3cret"), "{err}");
    }
}
