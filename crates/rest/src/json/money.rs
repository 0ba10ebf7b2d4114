use antaeus_models::{Currency, Money};
use serde::Serialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;

/// `{"value":123.45,"currency":"EUR"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MoneyJson {
    /// The decimal written verbatim as a JSON number, so no digit passes through a float.
    #[schema(value_type = f64, example = 123.45)]
    value: Box<RawValue>,
    #[schema(value_type = String, example = "EUR")]
    currency: Currency,
}

impl From<&Money> for MoneyJson {
    fn from(money: &Money) -> Self {
        // `Money` keeps exactly the minor-unit digits, so this prints e.g. `10.00`, a valid
        // JSON number (no exponent, no sign).
        let value = RawValue::from_string(money.value().to_string())
            .expect("a non-negative decimal is a valid JSON number");
        Self {
            value,
            currency: money.currency(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_and_huge_amounts_keep_two_decimals_and_every_digit() {
        let json = |minor| {
            serde_json::to_string(&MoneyJson::from(
                &Money::from_minor(minor, Currency::USD).unwrap(),
            ))
            .unwrap()
        };
        assert_eq!(json(1000), r#"{"value":10.00,"currency":"USD"}"#);
        assert_eq!(json(5), r#"{"value":0.05,"currency":"USD"}"#);
        // Beyond f64's 15-16 significant digits.
        assert_eq!(
            json(i64::MAX),
            r#"{"value":92233720368547758.07,"currency":"USD"}"#
        );
    }
}
