use std::fmt;
use std::str::FromStr;

use crate::ModelError;

/// The id of an event as receivers see it (`evt_…`): 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

impl EventId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 255;

    /// Parses an id: non-empty, at most [`Self::MAX_LEN`] characters, visible ASCII only.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ModelError> {
        let raw = raw.into();
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ModelError::InvalidEventId(raw));
        }
        Ok(Self(raw))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for EventId {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_ids_billing_writes_and_rejects_blank_long_or_spaced_ones() {
        for good in [
            "evt_17_5_invoice.retries_exhausted_1764547200000000",
            "evt_run_3_completed",
        ] {
            assert_eq!(good.parse::<EventId>().unwrap().as_str(), good);
        }
        for bad in [String::new(), "evt 1".into(), "é".into(), "x".repeat(256)] {
            assert!(bad.parse::<EventId>().is_err(), "{bad:?}");
        }
    }
}
