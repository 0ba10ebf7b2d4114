//! Reading one row's values into domain values: each field parsed on its own, every field's
//! problem collected (so one reject names all that is wrong with a row), amounts exactly.

use std::str::FromStr;

use antaeus_models::{Currency, CustomerId, ExternalId, Money};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use super::rejects::Problem;
use super::schema::{Raw, Values};

/// The longest name, email or provider reference kept.
pub const MAX_TEXT: usize = 255;
/// The longest invoice description kept, in bytes (the invoice service's limit).
pub const MAX_DESCRIPTION: usize = 1_000;
/// Integer digits an amount may have: its minor units must fit storage's 64-bit integer.
const MAX_INTEGER_DIGITS: usize = 16;

/// Reads a row's fields, collecting the problems of those that cannot be read.
pub struct RowReader<'a> {
    values: &'a Values,
    problems: Vec<Problem>,
}

impl<'a> RowReader<'a> {
    /// A reader of `values`.
    pub fn new(values: &'a Values) -> Self {
        Self {
            values,
            problems: Vec::new(),
        }
    }

    /// Whether column `name` has a value.
    pub fn has(&self, name: &str) -> bool {
        self.values.get(name).is_some()
    }

    /// Column `name` read by `parse`; a missing value is a problem.
    pub fn required<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&Raw) -> Result<T, String>,
    ) -> Option<T> {
        match self.values.get(name) {
            Some(raw) => self.parsed(name, raw, parse),
            None => {
                self.problem(name, "is required");
                None
            }
        }
    }

    /// Column `name` read by `parse`, when it has a value.
    pub fn optional<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&Raw) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.values.get(name)?;
        self.parsed(name, raw, parse)
    }

    /// Column `name` read by `parse`, when the row has the column: `None` when it does not,
    /// `Some(None)` when it has it empty.
    pub fn given<T>(
        &mut self,
        name: &'static str,
        parse: impl FnOnce(&Raw) -> Result<T, String>,
    ) -> Option<Option<T>> {
        self.values
            .has_column(name)
            .then(|| self.optional(name, parse))
    }

    /// Records a problem with column `name`.
    pub fn problem(&mut self, name: &'static str, reason: impl Into<String>) {
        self.problems.push(Problem::field(name, reason));
    }

    /// The row `build` makes from the fields read, or every problem found.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, Vec<Problem>> {
        if !self.problems.is_empty() {
            return Err(self.problems);
        }
        build().ok_or_else(|| vec![Problem::row("the row could not be read")])
    }

    fn parsed<T>(
        &mut self,
        name: &'static str,
        raw: &Raw,
        parse: impl FnOnce(&Raw) -> Result<T, String>,
    ) -> Option<T> {
        parse(raw).map_err(|reason| self.problem(name, reason)).ok()
    }
}

/// An external id: 1 to 255 visible ASCII characters.
pub fn external_id(raw: &Raw) -> Result<ExternalId, String> {
    ExternalId::parse(raw.as_str()).map_err(|e| e.to_string())
}

/// An Antaeus customer id: a positive integer.
pub fn customer_id(raw: &Raw) -> Result<CustomerId, String> {
    raw.as_str()
        .parse::<i64>()
        .ok()
        .and_then(|n| CustomerId::new(n).ok())
        .ok_or_else(|| {
            format!(
                "{:?} is not a customer id (a positive integer)",
                raw.as_str()
            )
        })
}

/// A currency code (`EUR`, `USD`, `DKK`, `SEK`, `GBP`).
pub fn currency(raw: &Raw) -> Result<Currency, String> {
    Currency::from_str(raw.as_str()).map_err(|e| e.to_string())
}

/// An amount in `currency`: a plain decimal (`123.45`; NDJSON may give it as a number), above
/// zero, with no more decimals than the currency's minor unit once trailing zeros are dropped.
/// Read exactly from its text, however many digits it has: never through a float.
pub fn amount(raw: &Raw, currency: Currency) -> Result<Money, String> {
    let text = raw.as_str();
    let not_decimal = || format!("{text:?} is not a decimal amount such as 123.45");
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if integer.is_empty() || !digits(integer) || !digits(fraction) {
        return Err(not_decimal());
    }
    if text.starts_with('-') {
        return Err(format!("{text} must be greater than zero"));
    }
    let fraction = fraction.trim_end_matches('0');
    let minor_digits = currency.minor_unit_digits() as usize;
    if fraction.len() > minor_digits {
        return Err(format!(
            "{text} has more decimals than {currency} has ({minor_digits})"
        ));
    }
    let integer = match integer.trim_start_matches('0') {
        "" => "0",
        significant if significant.len() > MAX_INTEGER_DIGITS => {
            return Err(format!("{text} is too large"));
        }
        significant => significant,
    };
    let exact = if fraction.is_empty() {
        integer.to_owned()
    } else {
        format!("{integer}.{fraction}")
    };
    let value = Decimal::from_str_exact(&exact).map_err(|_| not_decimal())?;
    let money = Money::new(value, currency).map_err(|e| e.to_string())?;
    if money.to_minor() <= 0 {
        return Err(format!("{text} must be greater than zero"));
    }
    Ok(money)
}

/// A time in RFC 3339 (`2026-12-01T00:00:00Z`, or with an offset).
pub fn timestamp(raw: &Raw) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.as_str())
        .map(|t| t.to_utc())
        .map_err(|e| {
            format!(
                "{:?} is not an RFC 3339 time such as 2026-12-01T00:00:00Z ({e})",
                raw.as_str()
            )
        })
}

/// Free text of at most `max` bytes.
pub fn text(raw: &Raw, max: usize) -> Result<String, String> {
    let text = raw.as_str();
    if text.len() > max {
        return Err(format!("is longer than {max} bytes"));
    }
    if text.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    Ok(text.to_owned())
}

/// An email address: something, `@`, something with a dot; no spaces.
pub fn email(raw: &Raw) -> Result<String, String> {
    let email = text(raw, MAX_TEXT)?;
    let valid = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@')
    }) && !email.contains(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(format!("{email:?} is not an email address"))
    }
}

/// A payment provider's reference (`cus_…`, `pm_…`): visible ASCII, at most 255 characters.
pub fn reference(raw: &Raw) -> Result<String, String> {
    let reference = raw.as_str();
    if reference.len() > MAX_TEXT || !reference.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(format!(
            "{reference:?} is not a provider reference (1 to {MAX_TEXT} visible ASCII characters)"
        ));
    }
    Ok(reference.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(text: &str) -> Result<String, String> {
        amount(&Raw::Text(text.into()), Currency::EUR).map(|m| m.to_string())
    }

    #[test]
    fn amounts_are_read_exactly_however_many_digits_they_have() {
        assert_eq!(
            eur("123.45").unwrap(),
            eur("123.450000000000000000000000000000000").unwrap()
        );
        assert_eq!(
            amount(&Raw::Number("0.10".into()), Currency::SEK)
                .unwrap()
                .to_minor(),
            10
        );
        assert_eq!(
            amount(&Raw::Text("007".into()), Currency::DKK)
                .unwrap()
                .to_minor(),
            700
        );
        assert_eq!(
            amount(&Raw::Text("999999999.99".into()), Currency::DKK)
                .unwrap()
                .to_minor(),
            99_999_999_999
        );
        // Above the currency's cap: refused, naming it.
        let err = eur("9999999999999999.99").unwrap_err();
        assert!(
            err.contains("above the largest amount Antaeus bills (100000000.00 EUR)"),
            "{err}"
        );
        // A float would round this to 0.1.
        let err = eur("0.1000000000000000000000000000001").unwrap_err();
        assert!(err.contains("more decimals than EUR has (2)"), "{err}");
        let err = eur("12.345").unwrap_err();
        assert!(err.contains("more decimals"), "{err}");
    }

    #[test]
    fn amounts_that_are_not_plain_positive_decimals_are_refused() {
        for zero in ["0", "0.00", "-0", "-0.0"] {
            let err = eur(zero).unwrap_err();
            assert!(err.contains("greater than zero"), "{zero}: {err}");
        }
        assert!(eur("-5").unwrap_err().contains("greater than zero"));
        for bad in [
            "", "1e3", "1.5E2", "12,50", "1_000", "abc", ".5", "1.2.3", "NaN",
        ] {
            let err = eur(bad).unwrap_err();
            assert!(err.contains("not a decimal amount"), "{bad}: {err}");
        }
        assert_eq!(eur("5.").unwrap(), eur("5").unwrap());
        let err = eur("123456789012345678").unwrap_err();
        assert!(err.contains("too large"), "{err}");
    }

    #[test]
    fn times_ids_and_text_are_checked() {
        let t = timestamp(&Raw::Text("2026-12-01T01:00:00+01:00".into())).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert!(timestamp(&Raw::Text("2026-12-01".into())).is_err());
        assert_eq!(customer_id(&Raw::Number("7".into())).unwrap().get(), 7);
        for bad in ["0", "-1", "7.0", "x"] {
            assert!(customer_id(&Raw::Text(bad.into())).is_err(), "{bad}");
        }
        assert!(email(&Raw::Text("ops@acme.example".into())).is_ok());
        for bad in ["ops", "@acme.example", "ops@acme", "o ps@acme.example"] {
            assert!(email(&Raw::Text(bad.into())).is_err(), "{bad}");
        }
        assert!(reference(&Raw::Text("cus_123".into())).is_ok());
        assert!(reference(&Raw::Text("cus 123".into())).is_err());
        assert!(text(&Raw::Text("x".repeat(300)), MAX_TEXT).is_err());
        assert!(currency(&Raw::Text("eur".into())).is_err());
    }
}
