//! Cron expressions as fire schedules (UTC), parsed by the `croner` crate.

use std::fmt;
use std::str::FromStr;

use antaeus_core::scheduler::FireSchedule;
use chrono::{DateTime, Utc};
use croner::Cron;

/// A cron schedule in UTC: five fields (`minute hour day-of-month month day-of-week`), or six
/// with seconds first. Its `Debug` is the expression, quoted (the configuration line shows it).
#[derive(Clone)]
pub struct CronSchedule {
    expression: String,
    cron: Cron,
}

impl CronSchedule {
    /// Parses `expression`; the error says what is wrong with it.
    pub fn parse(expression: &str) -> Result<Self, String> {
        let cron = croner::parser::CronParser::builder()
            .seconds(croner::parser::Seconds::Optional)
            .build()
            .parse(expression.trim())
            .map_err(|e| format!("{expression:?} is not a cron expression: {e}"))?;
        Ok(Self {
            expression: expression.trim().to_owned(),
            cron,
        })
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Its latest fire at or before `at`, if it ever fired (what `/metrics` checks was started).
    pub fn last_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_previous_occurrence(&at, true).ok()
    }
}

impl fmt::Debug for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The parsed schedule's tables are thousands of numbers; the expression says it all.
        fmt::Debug::fmt(&self.expression, f)
    }
}

impl FromStr for CronSchedule {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl FireSchedule for CronSchedule {
    fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after, false).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn the_default_monthly_schedule_fires_at_midnight_on_the_first() {
        let monthly = CronSchedule::parse("0 0 1 * *").unwrap();
        assert_eq!(
            monthly.next_after(at("2026-11-25T10:00:00Z")),
            Some(at("2026-12-01T00:00:00Z"))
        );
        assert_eq!(
            monthly.next_after(at("2026-12-01T00:00:00Z")),
            Some(at("2027-01-01T00:00:00Z"))
        );
        assert_eq!(
            monthly.next_after(at("2026-12-31T23:59:59Z")),
            Some(at("2027-01-01T00:00:00Z"))
        );
    }

    #[test]
    fn the_default_retry_schedule_fires_hourly() {
        let hourly = CronSchedule::parse("0 * * * *").unwrap();
        assert_eq!(
            hourly.next_after(at("2026-11-25T10:00:00Z")),
            Some(at("2026-11-25T11:00:00Z"))
        );
        assert_eq!(
            hourly.next_after(at("2026-11-25T10:59:59Z")),
            Some(at("2026-11-25T11:00:00Z"))
        );
    }

    #[test]
    fn the_last_fire_is_the_latest_at_or_before_the_instant() {
        let monthly = CronSchedule::parse("0 0 1 * *").unwrap();
        assert_eq!(
            monthly.last_at_or_before(at("2026-12-15T10:00:00Z")),
            Some(at("2026-12-01T00:00:00Z"))
        );
        assert_eq!(
            monthly.last_at_or_before(at("2026-12-01T00:00:00Z")),
            Some(at("2026-12-01T00:00:00Z")),
            "a fire at the instant itself counts"
        );
        assert_eq!(
            monthly.last_at_or_before(at("2026-11-30T23:59:59Z")),
            Some(at("2026-11-01T00:00:00Z"))
        );
    }

    #[test]
    fn debug_shows_the_expression_not_the_parsed_tables() {
        let monthly = CronSchedule::parse(" 0 0 1 * * ").unwrap();
        assert_eq!(format!("{monthly:?}"), r#""0 0 1 * *""#);
    }

    #[test]
    fn seconds_are_optional_and_nonsense_is_refused() {
        let every_30s = CronSchedule::parse("*/30 * * * * *").unwrap();
        assert_eq!(
            every_30s.next_after(at("2026-11-25T10:00:10Z")),
            Some(at("2026-11-25T10:00:30Z"))
        );
        for bad in ["", "every day", "61 * * * *", "* * * *"] {
            assert!(CronSchedule::parse(bad).is_err(), "{bad:?}");
        }
    }
}
