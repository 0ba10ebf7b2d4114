//! An amount in a request body, `{"value":"123.45","currency":"EUR"}`, read exactly: the value's
//! digits are taken from the JSON text itself, never through a float.

use antaeus_models::{Currency, Money};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use utoipa::ToSchema;
use utoipa::openapi::schema::{OneOfBuilder, Schema, Type};
use utoipa::openapi::{ObjectBuilder, RefOr};

use crate::ApiError;

/// The longest value text read; the largest amount an invoice may have, `1000000000.00`, is 13
/// characters, so anything this long is absurd rather than precise.
const MAX_VALUE_TEXT: usize = 40;

/// `{"value":123.45,"currency":"EUR"}` or `{"value":"123.45","currency":"EUR"}` in a request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountJson {
    /// Greater than zero and at most 100000000.00 (EUR, USD, GBP) or 1000000000.00 (DKK, SEK),
    /// with at most the currency's minor-unit digits (two): a JSON number or a decimal string,
    /// read digit by digit (no float, no exponent, no sign).
    #[schema(schema_with = number_or_decimal_string)]
    value: Box<RawValue>,
    /// EUR, USD, DKK, SEK or GBP.
    #[schema(value_type = String, example = "EUR")]
    currency: Currency,
}

impl AmountJson {
    /// The amount, or a 400 naming what is wrong with it.
    pub fn to_money(&self) -> Result<Money, ApiError> {
        let shown: String = self.value.get().chars().take(MAX_VALUE_TEXT + 2).collect();
        let bad = |why: &str| ApiError::BadRequest(format!("amount.value {shown}: {why}"));
        let text = decimal_text(&self.value).map_err(|why| bad(&why))?;
        let value = Decimal::from_str_exact(&text).map_err(|_| bad("has too many digits"))?;
        let money = Money::new(value, self.currency).map_err(|e| match e {
            antaeus_models::ModelError::InvalidAmount(_, why) => bad(why),
            antaeus_models::ModelError::AmountAboveLimit { limit, .. } => bad(&format!(
                "is above the largest amount Antaeus bills ({limit})"
            )),
            other => bad(&other.to_string()),
        })?;
        if money.to_minor() == 0 {
            return Err(bad("must be greater than zero"));
        }
        Ok(money)
    }
}

/// The positive decimal `value` writes (a JSON number or a decimal string), read exactly, or
/// why it is not one.
pub fn decimal_value(value: &RawValue) -> Result<Decimal, String> {
    positive_decimal(&json_text(value)?)
}

/// The positive decimal `text` writes (digits with an optional fraction: no sign, no exponent),
/// read exactly, or why it is not one: what a form's amount field is held to.
pub fn positive_decimal(text: &str) -> Result<Decimal, String> {
    plain_decimal(text)?;
    let decimal = Decimal::from_str_exact(text).map_err(|_| "has too many digits".to_owned())?;
    if decimal.is_zero() {
        return Err("must be greater than zero".into());
    }
    Ok(decimal)
}

/// The decimal the value writes, checked to be plain digits with an optional fraction:
/// the JSON number grammar without sign or exponent, as a number or inside a string.
fn decimal_text(value: &RawValue) -> Result<String, String> {
    let text = json_text(value)?;
    plain_decimal(&text)?;
    Ok(text)
}

/// The text of a JSON number, or of a JSON string; anything else is refused.
fn json_text(value: &RawValue) -> Result<String, String> {
    let raw = value.get().trim();
    if raw.starts_with('"') {
        serde_json::from_str::<String>(raw).map_err(|e| e.to_string())
    } else if raw.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        Ok(raw.to_owned())
    } else {
        Err("must be a JSON number or a decimal string such as \"123.45\"".into())
    }
}

/// Whether `text` is plain digits with an optional fraction, short enough to be an amount.
fn plain_decimal(text: &str) -> Result<(), String> {
    if text.len() > MAX_VALUE_TEXT {
        return Err(format!("is longer than {MAX_VALUE_TEXT} characters"));
    }
    if text.starts_with('-') {
        return Err("must be greater than zero".into());
    }
    if text.contains(['e', 'E']) {
        return Err("must be written without an exponent, e.g. 123.45".into());
    }
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let plain_whole = digits(whole) && (whole == "0" || !whole.starts_with('0'));
    if !plain_whole || fraction.is_some_and(|f| !digits(f)) {
        return Err("is not a decimal number such as 123.45".into());
    }
    Ok(())
}

/// The value's schema: a JSON number or a string holding one.
fn number_or_decimal_string() -> impl Into<RefOr<Schema>> {
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(r"^(0|[1-9][0-9]*)(\.[0-9]+)?$")),
        )
        .description(Some(
            "A JSON number or a decimal string, e.g. 123.45 or \"123.45\"",
        ))
        .examples([serde_json::json!("123.45")])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(json: &str) -> Result<Money, String> {
        let amount: AmountJson = serde_json::from_str(json).map_err(|e| e.to_string())?;
        amount.to_money().map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_and_strings_are_read_exactly() {
        for (json, minor) in [
            (r#"{"value":123.45,"currency":"EUR"}"#, 12_345),
            (r#"{"value":"123.45","currency":"EUR"}"#, 12_345),
            (r#"{"value":10,"currency":"USD"}"#, 1_000),
            (r#"{"value":"0.01","currency":"DKK"}"#, 1),
            (r#"{"value":1.50,"currency":"SEK"}"#, 150),
            (r#"{"value":"1.230","currency":"GBP"}"#, 123),
            // The largest amounts, every digit kept.
            (r#"{"value":100000000.00,"currency":"EUR"}"#, 10_000_000_000),
            (
                r#"{"value":"999999999.99","currency":"DKK"}"#,
                99_999_999_999,
            ),
            (r#"{ "value" : 7.7 , "currency" : "EUR" }"#, 770),
        ] {
            let m = money(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(m.to_minor(), minor, "{json}");
        }
    }

    #[test]
    fn anything_else_is_refused_with_a_reason() {
        for (value, why) in [
            ("0", "greater than zero"),
            ("0.00", "greater than zero"),
            ("\"0\"", "greater than zero"),
            ("-1", "greater than zero"),
            ("\"-1.00\"", "greater than zero"),
            ("1.234", "decimals"),
            ("\"1.005\"", "decimals"),
            ("1e2", "exponent"),
            ("\"1E2\"", "exponent"),
            ("\"12,50\"", "decimal number"),
            ("\" 12.50\"", "decimal number"),
            ("\"+12\"", "decimal number"),
            ("\"012\"", "decimal number"),
            ("\"1.\"", "decimal number"),
            ("\".5\"", "decimal number"),
            ("\"\"", "decimal number"),
            ("\"NaN\"", "decimal number"),
            ("true", "JSON number or a decimal string"),
            ("null", "JSON number or a decimal string"),
            ("[1]", "JSON number or a decimal string"),
            ("{}", "JSON number or a decimal string"),
            (
                "100000000.01",
                "above the largest amount Antaeus bills (100000000.00 EUR)",
            ),
            ("92233720368547758.07", "above the largest amount"),
            ("92233720368547758.08", "above the largest amount"),
            ("123456789012345678901234567890", "too many digits"),
            (&format!("\"{}\"", "9".repeat(41)), "longer than 40"),
            (&"1".repeat(400), "longer than 40"),
        ] {
            let json = format!(r#"{{"value":{value},"currency":"EUR"}}"#);
            let err = money(&json).unwrap_err();
            assert!(err.contains(why), "{value}: {err}");
            assert!(err.starts_with("amount.value"), "{value}: {err}");
        }
    }

    #[test]
    fn a_form_amount_is_held_to_the_same_grammar() {
        assert_eq!(positive_decimal("12.50").unwrap().to_string(), "12.50");
        for (text, why) in [
            ("abc", "decimal number"),
            ("-1", "greater than zero"),
            ("0.00", "greater than zero"),
            ("1e2", "exponent"),
            ("12,50", "decimal number"),
        ] {
            let err = positive_decimal(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn the_currency_is_one_of_the_five_and_the_object_has_nothing_else() {
        for json in [
            r#"{"value":1,"currency":"JPY"}"#,
            r#"{"value":1,"currency":"eur"}"#,
            r#"{"value":1}"#,
            r#"{"currency":"EUR"}"#,
            r#"{"value":1,"currency":"EUR","cents":100}"#,
        ] {
            assert!(money(json).is_err(), "{json}");
        }
    }
}
