//! The amounts a payment provider will charge at all (Stripe: at least 0.50 EUR, at most
//! 999,999.99), checked when an invoice is created so that an amount no attempt can ever charge
//! is refused up front instead of failing on the first of the month.

use antaeus_models::{Currency, Money};

/// The smallest and largest amount the provider charges, per currency (in minor units).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AmountLimits {
    limits: Vec<(Currency, i64, i64)>,
    provider: String,
}

impl AmountLimits {
    /// No limits (the simulated and HTTP providers charge any positive amount).
    pub fn none() -> Self {
        Self::default()
    }

    /// `provider`'s limits: for each currency, the smallest and largest amount in minor units.
    pub fn new(provider: impl Into<String>, limits: Vec<(Currency, i64, i64)>) -> Self {
        Self {
            limits,
            provider: provider.into(),
        }
    }

    /// Why `amount` cannot be charged, or `None` when it can.
    pub fn refusal(&self, amount: Money) -> Option<String> {
        let (_, min, max) = self
            .limits
            .iter()
            .find(|(currency, _, _)| *currency == amount.currency())?;
        let shown = |minor: i64| {
            Money::from_minor(minor, amount.currency())
                .map_or_else(|_| minor.to_string(), |m| m.to_string())
        };
        let minor = amount.to_minor();
        if minor < *min {
            Some(format!(
                "amount {amount} is below the smallest charge {} accepts ({})",
                self.provider,
                shown(*min)
            ))
        } else if minor > *max {
            Some(format!(
                "amount {amount} is above the largest charge {} accepts ({})",
                self.provider,
                shown(*max)
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_outside_a_currencys_limits_are_refused_with_the_limit() {
        let limits = AmountLimits::new("Stripe", vec![(Currency::EUR, 50, 99_999_999)]);
        let eur = |minor| Money::from_minor(minor, Currency::EUR).unwrap();
        let small = limits.refusal(eur(10)).unwrap();
        assert!(
            small.contains("0.10 EUR") && small.contains("0.50 EUR"),
            "{small}"
        );
        assert!(limits.refusal(eur(100_000_000)).is_some());
        assert_eq!(limits.refusal(eur(50)), None);
        assert_eq!(limits.refusal(eur(99_999_999)), None);
        // A currency without limits is not limited.
        assert_eq!(
            limits.refusal(Money::from_minor(1, Currency::USD).unwrap()),
            None
        );
        assert_eq!(AmountLimits::none().refusal(eur(1)), None);
    }
}
