use std::fmt;

use crate::ModelError;

/// Names one running Antaeus process: the owner of the invoices it claims.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(String);

impl InstanceId {
    /// The longest id accepted.
    pub const MAX_LEN: usize = 100;

    /// Parses an id: 1 to 100 visible ASCII characters.
    pub fn parse(raw: impl Into<String>) -> Result<Self, ModelError> {
        let raw = raw.into();
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ModelError::InvalidInstanceId(raw));
        }
        Ok(Self(raw))
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_host_pid_style_ids_and_rejects_blank_or_long_ones() {
        assert!(InstanceId::parse("web-1.example-4242-a1b2").is_ok());
        for bad in [String::new(), "a b".into(), "x".repeat(101)] {
            assert!(InstanceId::parse(bad).is_err());
        }
    }
}
