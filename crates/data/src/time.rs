//! UTC instants as the database keeps them: `TIMESTAMP` without zone, microsecond precision.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};

/// An instant as stored; sub-microsecond digits are dropped so SQLite and PostgreSQL agree.
pub(crate) fn to_db(instant: DateTime<Utc>) -> NaiveDateTime {
    let naive = instant.naive_utc();
    let micros = naive.nanosecond() / 1_000 * 1_000;
    naive.with_nanosecond(micros).unwrap_or(naive)
}

/// A stored timestamp as an instant.
pub(crate) fn from_db(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
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
}
