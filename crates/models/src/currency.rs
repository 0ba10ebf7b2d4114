string_enum! {
    /// The currencies Antaeus bills in (ISO 4217 codes).
    pub enum Currency ("currency") {
        /// Euro.
        EUR = "EUR",
        /// US dollar.
        USD = "USD",
        /// Danish krone.
        DKK = "DKK",
        /// Swedish krona.
        SEK = "SEK",
        /// Pound sterling.
        GBP = "GBP",
    }
}

impl Currency {
    /// Digits after the decimal point in the currency's minor unit (cents, øre, pence).
    pub const fn minor_unit_digits(self) -> u32 {
        2
    }

    /// The largest amount of one invoice, in minor units: 100,000,000.00 in EUR, USD and GBP,
    /// 1,000,000,000.00 in DKK and SEK (about the same worth). Far above any real invoice, and
    /// far below what a 64-bit total could not add up, so that a typo of a few digits is
    /// refused instead of charged.
    pub const fn max_amount_minor(self) -> i64 {
        match self {
            Self::EUR | Self::USD | Self::GBP => 10_000_000_000,
            Self::DKK | Self::SEK => 100_000_000_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for &c in Currency::ALL {
            assert_eq!(c.as_str().parse::<Currency>(), Ok(c));
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(Currency::ALL.len(), 5);
    }

    #[test]
    fn unknown_and_lowercase_codes_are_rejected_with_the_expected_list() {
        for bad in ["eur", "JPY", ""] {
            let err = bad.parse::<Currency>().unwrap_err().to_string();
            assert!(err.contains("EUR, USD, DKK, SEK, GBP"), "{err}");
        }
    }

    #[test]
    fn serde_uses_the_code() {
        assert_eq!(serde_json::to_string(&Currency::DKK).unwrap(), "\"DKK\"");
        assert_eq!(
            serde_json::from_str::<Currency>("\"SEK\"").unwrap(),
            Currency::SEK
        );
        assert!(serde_json::from_str::<Currency>("\"sek\"").is_err());
    }
}
