//! A sum of amounts, as wide as it needs to be: the console's totals add up whatever is stored,
//! and no number of invoices may overflow them or make them wrong.

use std::fmt;

use rust_decimal::Decimal;

use crate::Currency;

/// An exact sum of amounts in one currency (never negative). Unlike [`crate::Money`] it has no
/// upper bound worth the name: it holds any sum of 64-bit minor amounts that storage can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MoneyTotal {
    minor: i128,
    currency: Currency,
}

impl MoneyTotal {
    /// A sum of `minor` minor units (cents) in `currency`; below zero is read as zero (a total
    /// can only be negative by a bug, and an empty total is the honest answer then).
    pub fn from_minor(minor: i128, currency: Currency) -> Self {
        Self {
            minor: minor.max(0),
            currency,
        }
    }

    /// The sum in minor units.
    pub const fn minor(&self) -> i128 {
        self.minor
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The exact decimal value, with the currency's minor-unit digits.
    pub fn value(&self) -> Decimal {
        let digits = self.currency.minor_unit_digits();
        // A Decimal holds 96 bits, far more than any sum of 64-bit amounts storage counts;
        // the fallback (the largest Decimal) is unreachable in practice.
        Decimal::try_from_i128_with_scale(self.minor, digits).unwrap_or(Decimal::MAX)
    }
}

impl fmt::Display for MoneyTotal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_past_the_64_bit_range_print_every_digit() {
        let twice = MoneyTotal::from_minor(2 * i128::from(i64::MAX), Currency::EUR);
        assert_eq!(twice.to_string(), "184467440737095516.14 EUR");
        assert_eq!(
            MoneyTotal::from_minor(5, Currency::DKK).to_string(),
            "0.05 DKK"
        );
        assert_eq!(MoneyTotal::from_minor(-5, Currency::DKK).minor(), 0);
    }
}
