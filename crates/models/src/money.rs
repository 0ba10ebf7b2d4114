use std::fmt;

use rust_decimal::Decimal;

use crate::{Currency, ModelError};

/// An exact, non-negative amount in one currency.
///
/// The value always carries exactly the currency's minor-unit digits (`10` becomes `10.00`), so
/// it prints and serialises the same way wherever it came from. Storage keeps the amount in minor
/// units (cents) as a 64-bit integer; [`Money::from_minor`] and [`Money::to_minor`] convert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    value: Decimal,
    currency: Currency,
}

impl Money {
    /// An amount of `value` in `currency`, as a request or a file gives it; more decimals than
    /// the minor unit, a negative value, or more than the currency's largest amount
    /// ([`Currency::max_amount_minor`]) is an error (rounding money silently is never right).
    pub fn new(value: Decimal, currency: Currency) -> Result<Self, ModelError> {
        let digits = currency.minor_unit_digits();
        if value.is_sign_negative() && !value.is_zero() {
            return Err(ModelError::InvalidAmount(
                value.to_string(),
                "must not be negative",
            ));
        }
        let normalized = value.normalize();
        if normalized.scale() > digits {
            return Err(ModelError::InvalidAmount(
                value.to_string(),
                "has more decimals than the currency's minor unit",
            ));
        }
        let mut exact = normalized;
        exact.rescale(digits);
        let max = currency.max_amount_minor();
        if exact.mantissa() > i128::from(max) {
            return Err(ModelError::AmountAboveLimit {
                amount: value.to_string(),
                limit: Self::from_minor(max, currency)?,
            });
        }
        Ok(Self {
            value: exact,
            currency,
        })
    }

    /// Nothing, in this amount's currency.
    pub fn zero(self) -> Self {
        Self {
            value: Decimal::new(0, self.currency.minor_unit_digits()),
            currency: self.currency,
        }
    }

    /// This amount less `other` (in the same currency), or zero when `other` is larger.
    pub fn saturating_sub(self, other: Money) -> Self {
        Money::from_minor(
            self.to_minor().saturating_sub(other.to_minor()).max(0),
            self.currency,
        )
        .unwrap_or_else(|_| self.zero())
    }

    /// An amount given in the currency's minor units, e.g. `12345` cents is `123.45`: what
    /// storage reads back, so any non-negative 64-bit amount is taken (no cap, unlike
    /// [`Money::new`]).
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, ModelError> {
        if minor < 0 {
            return Err(ModelError::InvalidAmount(
                minor.to_string(),
                "must not be negative",
            ));
        }
        Ok(Self {
            value: Decimal::new(minor, currency.minor_unit_digits()),
            currency,
        })
    }

    /// The exact decimal value, with the currency's minor-unit digits.
    pub const fn value(&self) -> Decimal {
        self.value
    }

    /// The currency.
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// The amount in minor units (cents), as storage keeps it.
    pub fn to_minor(&self) -> i64 {
        // `new` and `from_minor` guarantee the mantissa fits and the scale is the minor unit.
        i64::try_from(self.value.mantissa()).expect("Money invariant: mantissa fits in i64")
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn value_always_has_two_decimals() {
        let m = Money::new(dec("10"), Currency::EUR).unwrap();
        assert_eq!(m.value().to_string(), "10.00");
        let m = Money::new(dec("123.4"), Currency::DKK).unwrap();
        assert_eq!(m.value().to_string(), "123.40");
        let m = Money::new(dec("123.4500"), Currency::DKK).unwrap();
        assert_eq!(m.value().to_string(), "123.45");
    }

    #[test]
    fn minor_units_round_trip_exactly() {
        for minor in [0_i64, 1, 99, 12_345, 50_000, i64::MAX] {
            let m = Money::from_minor(minor, Currency::USD).unwrap();
            assert_eq!(m.to_minor(), minor);
            if minor <= Currency::USD.max_amount_minor() {
                assert_eq!(Money::new(m.value(), Currency::USD).unwrap(), m);
            }
        }
        assert_eq!(
            Money::from_minor(12_345, Currency::GBP)
                .unwrap()
                .value()
                .to_string(),
            "123.45"
        );
    }

    #[test]
    fn rejects_fractions_of_a_cent_negative_and_oversized_amounts() {
        assert!(Money::new(dec("0.001"), Currency::EUR).is_err());
        assert!(Money::new(dec("-1"), Currency::EUR).is_err());
        assert!(Money::from_minor(-1, Currency::EUR).is_err());
        assert!(Money::new(dec("92233720368547758.08"), Currency::EUR).is_err());
    }

    #[test]
    fn amounts_above_the_currencys_cap_are_refused_with_the_cap() {
        assert!(Money::new(dec("100000000.00"), Currency::EUR).is_ok());
        let err = Money::new(dec("100000000.01"), Currency::EUR).unwrap_err();
        assert_eq!(
            err.to_string(),
            "100000000.01 is above the largest amount Antaeus bills (100000000.00 EUR)"
        );
        assert!(Money::new(dec("92233720368547758.07"), Currency::USD).is_err());
        assert!(Money::new(dec("1000000000.00"), Currency::DKK).is_ok());
        assert!(Money::new(dec("1000000000.01"), Currency::SEK).is_err());
        assert!(Money::new(dec("100000000.01"), Currency::GBP).is_err());
    }
}
