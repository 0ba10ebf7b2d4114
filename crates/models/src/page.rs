use std::str::FromStr;

use crate::ModelError;

/// How many items one page of a listing holds: `1..=PageLimit::MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(u16);

impl PageLimit {
    /// The largest page a client may ask for.
    pub const MAX: u16 = 1000;
    /// The page size when a client asks for none: the maximum, so that clients of the original
    /// API, which returned every row, still see the whole original data set in one response.
    pub const DEFAULT: PageLimit = PageLimit(Self::MAX);

    /// A limit of `n` items, if `n` is within `1..=MAX`.
    pub fn new(n: u16) -> Result<Self, ModelError> {
        if (1..=Self::MAX).contains(&n) {
            Ok(Self(n))
        } else {
            Err(ModelError::InvalidLimit(n.to_string()))
        }
    }

    /// The number of items.
    pub const fn get(self) -> u16 {
        self.0
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl FromStr for PageLimit {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ModelError::InvalidLimit(s.to_owned()));
        }
        s.parse::<u16>()
            .ok()
            .and_then(|n| Self::new(n).ok())
            .ok_or_else(|| ModelError::InvalidLimit(s.to_owned()))
    }
}

/// One page of a keyset-paginated listing ordered by id: items with an id greater than `after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest<Id> {
    /// Only items whose id is greater than this (the last id of the previous page).
    pub after: Option<Id>,
    /// The most items to return.
    pub limit: PageLimit,
}

impl<Id> Default for PageRequest<Id> {
    /// The first page, of the default size.
    fn default() -> Self {
        Self {
            after: None,
            limit: PageLimit::DEFAULT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_outside_one_to_max_are_rejected() {
        assert_eq!("1".parse::<PageLimit>().unwrap().get(), 1);
        assert_eq!("1000".parse::<PageLimit>().unwrap().get(), 1000);
        for bad in ["0", "1001", "-1", "", "ten", "65536", "99999999999"] {
            assert!(bad.parse::<PageLimit>().is_err(), "{bad:?}");
        }
        assert_eq!(PageLimit::default().get(), 1000);
    }
}
