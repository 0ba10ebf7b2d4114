//! Reading typed values out of environment variables, with errors that name the variable.

use std::time::Duration;

use chrono::TimeDelta;

use super::SettingsError;

/// A view of the environment (the process's, or a map in tests).
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    /// Reads variables through `lookup`.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self { lookup }
    }

    /// The variable's value, if set and not blank.
    pub fn optional(&self, var: &str) -> Option<String> {
        (self.lookup)(var).filter(|v| !v.trim().is_empty())
    }

    /// The variable's value, or `default`.
    pub fn string(&self, var: &str, default: &str) -> String {
        self.optional(var).unwrap_or_else(|| default.to_owned())
    }

    /// A switch: `on` (also `true`, `1`) or `off` (also `false`, `0`), any case; or `default`.
    pub fn switch(&self, var: &'static str, default: bool) -> Result<bool, SettingsError> {
        let Some(raw) = self.optional(var) else {
            return Ok(default);
        };
        match raw.trim().to_ascii_lowercase().as_str() {
            "on" | "true" | "1" => Ok(true),
            "off" | "false" | "0" => Ok(false),
            other => Err(invalid(var, format!("{other:?}: expected on or off"))),
        }
    }

    /// An integer within `min..=max`, or `default`.
    pub fn integer(
        &self,
        var: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, SettingsError> {
        let Some(raw) = self.optional(var) else {
            return Ok(default);
        };
        raw.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| {
                invalid(
                    var,
                    format!("{raw:?} is not an integer from {min} to {max}"),
                )
            })
    }

    /// A duration given in milliseconds, within `min..=max` ms.
    pub fn millis(
        &self,
        var: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<Duration, SettingsError> {
        self.integer(var, default, min, max)
            .map(Duration::from_millis)
    }

    /// A duration given in seconds, within `min..=max` s.
    pub fn seconds(
        &self,
        var: &'static str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<Duration, SettingsError> {
        self.integer(var, default, min, max)
            .map(Duration::from_secs)
    }

    /// A list of durations such as `1d,3d,5d,7d` (units `s`, `m`, `h`, `d`).
    pub fn schedule(
        &self,
        var: &'static str,
        default: &str,
    ) -> Result<Vec<TimeDelta>, SettingsError> {
        let raw = self.string(var, default);
        raw.split(',')
            .map(str::trim)
            .map(|part| {
                parse_span(part).ok_or_else(|| {
                    invalid(
                        var,
                        format!("{part:?} is not a duration like 30s, 15m, 12h or 3d"),
                    )
                })
            })
            .collect()
    }
}

/// `30s`, `15m`, `12h`, `3d` → a positive span.
fn parse_span(text: &str) -> Option<TimeDelta> {
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (digits, unit) = text.split_at(split);
    let n: i64 = digits.parse().ok().filter(|n| *n > 0 && *n <= 100_000)?;
    match unit {
        "s" => Some(TimeDelta::seconds(n)),
        "m" => Some(TimeDelta::minutes(n)),
        "h" => Some(TimeDelta::hours(n)),
        "d" => Some(TimeDelta::days(n)),
        _ => None,
    }
}

/// The error for `var`.
pub fn invalid(var: &'static str, reason: impl Into<String>) -> SettingsError {
    SettingsError {
        var,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_take_a_positive_count_and_a_unit() {
        assert_eq!(parse_span("3d"), Some(TimeDelta::days(3)));
        assert_eq!(parse_span("90s"), Some(TimeDelta::seconds(90)));
        for bad in ["", "d", "3", "0d", "-1d", "3w", "1.5h", "3 d"] {
            assert_eq!(parse_span(bad), None, "{bad:?}");
        }
    }
}
