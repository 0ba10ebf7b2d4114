//! The amounts Stripe charges at all: at least its minimum charge per currency (0.50 EUR, USD;
//! 0.30 GBP; 2.50 DKK; 3.00 SEK, roughly 0.50 USD each) and at most 999,999.99 (eight digits
//! in minor units). An invoice outside them is refused when it is created.

use antaeus_core::AmountLimits;
use antaeus_models::Currency;

/// The largest amount Stripe charges, in minor units, in these currencies.
const MAX_MINOR: i64 = 99_999_999;

/// Stripe's limits on a charge, per currency.
pub fn amount_limits() -> AmountLimits {
    AmountLimits::new(
        "Stripe",
        vec![
            (Currency::EUR, 50, MAX_MINOR),
            (Currency::USD, 50, MAX_MINOR),
            (Currency::GBP, 30, MAX_MINOR),
            (Currency::DKK, 250, MAX_MINOR),
            (Currency::SEK, 300, MAX_MINOR),
        ],
    )
}
