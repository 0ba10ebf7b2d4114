use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// The currencies Antaeus bills in (ISO 4217 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Currency {
    /// Euro.
    EUR,
    /// US dollar.
    USD,
    /// Danish krone.
    DKK,
    /// Swedish krona.
    SEK,
    /// Pound sterling.
    GBP,
}

impl Currency {
    /// Every supported currency, in the original Antaeus order.
    pub const ALL: [Currency; 5] = [
        Currency::EUR,
        Currency::USD,
        Currency::DKK,
        Currency::SEK,
        Currency::GBP,
    ];

    /// The ISO 4217 code, e.g. `"EUR"`.
    pub const fn code(self) -> &'static str {
        match self {
            Currency::EUR => "EUR",
            Currency::USD => "USD",
            Currency::DKK => "DKK",
            Currency::SEK => "SEK",
            Currency::GBP => "GBP",
        }
    }

    /// Digits after the decimal point in the currency's minor unit (cents, øre, pence).
    pub const fn minor_unit_digits(self) -> u32 {
        2
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code() == s)
            .ok_or_else(|| ModelError::UnknownCurrency(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in Currency::ALL {
            assert_eq!(c.code().parse::<Currency>(), Ok(c));
            assert_eq!(c.to_string(), c.code());
        }
    }

    #[test]
    fn unknown_and_lowercase_codes_are_rejected() {
        assert!("eur".parse::<Currency>().is_err());
        assert!("JPY".parse::<Currency>().is_err());
        assert!("".parse::<Currency>().is_err());
    }
}
