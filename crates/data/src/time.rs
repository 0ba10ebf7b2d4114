//! UTC instants as the database keeps them: `TIMESTAMP` without zone, microsecond precision.

use antaeus_core::store::stored_instant;
use chrono::{DateTime, NaiveDateTime, Utc};

/// An instant as stored (see [`stored_instant`]: to the microsecond, so SQLite and PostgreSQL
/// agree, and a leap second as the start of the next second, as PostgreSQL stores it).
pub(crate) fn to_db(instant: DateTime<Utc>) -> NaiveDateTime {
    stored_instant(instant).naive_utc()
}

/// A stored timestamp as an instant, in the stored form (a leap second SQLite kept as `:60`
/// before leap seconds were stored as the next second reads as the next second).
pub(crate) fn from_db(stored: NaiveDateTime) -> DateTime<Utc> {
    stored_instant(stored.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_at_microsecond_precision() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T10:11:12.123456789Z")
            .unwrap()
            .to_utc();
        let back = from_db(to_db(t));
        assert_eq!(back.to_rfc3339(), "2026-12-01T10:11:12.123456+00:00");
    }

    #[test]
    fn a_leap_second_stored_earlier_reads_as_the_next_second() {
        let kept = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_000_000_000)
            .unwrap();
        assert_eq!(from_db(kept).to_rfc3339(), "2017-01-01T00:00:00+00:00");
    }

    #[test]
    fn a_leap_second_is_stored_as_the_start_of_the_next_second() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_789)
            .unwrap()
            .and_utc();
        assert_eq!(
            from_db(to_db(leap)).to_rfc3339(),
            "2017-01-01T00:00:00.500+00:00"
        );
    }
}
