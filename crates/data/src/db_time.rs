//! A timestamp bound as SQLite stores it, written without chrono's format machinery.
//!
//! diesel binds a `NaiveDateTime` to SQLite as the text of `format("%F %T%.f")`, which
//! interprets the format string for every value: about 6% of an import's CPU, which binds two
//! per invoice. [`DbTime`] writes the same text directly (and falls back to chrono for what
//! the direct form does not cover), and binds to PostgreSQL exactly as a `NaiveDateTime`.

use chrono::{Datelike, NaiveDateTime, Timelike};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

/// A stored instant (see [`crate::time::to_db`]) to bind as a `TIMESTAMP` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Timestamp)]
pub(crate) struct DbTime(pub NaiveDateTime);

impl ToSql<Timestamp, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(sqlite_text(self.0));
        Ok(IsNull::No)
    }
}

impl ToSql<Timestamp, Pg> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        ToSql::<Timestamp, Pg>::to_sql(&self.0, &mut out.reborrow())
    }
}

/// `t` as `t.format("%F %T%.f")` writes it: `YYYY-MM-DD HH:MM:SS`, then the fraction of the
/// second, if any, in 3, 6 or 9 digits (the fewest that hold it exactly).
pub(crate) fn sqlite_text(t: NaiveDateTime) -> String {
    let year = t.year();
    let nanos = t.nanosecond();
    // A year outside 0..=9999 takes a sign, a leap second is written as second 60: chrono's
    // own formatting, as diesel's.
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return t.format("%F %T%.f").to_string();
    }
    let mut text = String::with_capacity(29);
    digits(&mut text, year as u32, 4);
    for (separator, value) in [
        ('-', t.month()),
        ('-', t.day()),
        (' ', t.hour()),
        (':', t.minute()),
        (':', t.second()),
    ] {
        text.push(separator);
        digits(&mut text, value, 2);
    }
    if nanos != 0 {
        let (value, width) = if nanos.is_multiple_of(1_000_000) {
            (nanos / 1_000_000, 3)
        } else if nanos.is_multiple_of(1_000) {
            (nanos / 1_000, 6)
        } else {
            (nanos, 9)
        };
        text.push('.');
        digits(&mut text, value, width);
    }
    text
}

/// Appends `value`'s last `width` decimal digits, zero-padded.
fn digits(text: &mut String, value: u32, width: u32) {
    for place in (0..width).rev() {
        let digit = value / 10u32.pow(place) % 10;
        text.push(char::from(b'0' + digit as u8));
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate, TimeDelta};

    use super::*;

    fn chrono_text(t: NaiveDateTime) -> String {
        t.format("%F %T%.f").to_string()
    }

    #[test]
    fn writes_what_chrono_writes_for_every_kind_of_fraction() {
        let base = NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        for nanos in [
            0,
            1,
            999,
            1_000,
            120_000,
            123_456,
            1_000_000,
            7_000_000,
            999_999_999,
        ] {
            let t = base + TimeDelta::nanoseconds(nanos);
            assert_eq!(sqlite_text(t), chrono_text(t), "{nanos} ns");
        }
    }

    #[test]
    fn writes_what_chrono_writes_across_the_calendar() {
        // A pseudo-random walk over 10,000 instants from year 0 to 9999 (a fixed seed), each
        // rounded to the microsecond as stored, and some not.
        let mut seed: u64 = 0x5eed;
        let first = NaiveDate::from_ymd_opt(0, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let span = (NaiveDate::from_ymd_opt(9999, 12, 31)
            .unwrap()
            .and_hms_opt(23, 59, 59)
            .unwrap()
            - first)
            .num_seconds() as u64;
        for n in 0..10_000 {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let seconds = (seed >> 11) % span;
            let nanos = match n % 4 {
                0 => 0,
                1 => (seed % 1_000) as i64 * 1_000_000,
                2 => (seed % 1_000_000) as i64 * 1_000,
                _ => (seed % 1_000_000_000) as i64,
            };
            let t = first + TimeDelta::seconds(seconds as i64) + TimeDelta::nanoseconds(nanos);
            assert_eq!(sqlite_text(t), chrono_text(t));
        }
    }

    #[test]
    fn leaves_years_beyond_four_digits_and_leap_seconds_to_chrono() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap();
        assert_eq!(sqlite_text(leap), "2016-12-31 23:59:60.500");
        for year in [-1, 10_000] {
            let t = NaiveDate::from_ymd_opt(year, 1, 2)
                .unwrap()
                .and_hms_opt(3, 4, 5)
                .unwrap();
            assert_eq!(sqlite_text(t), chrono_text(t));
        }
        let max = DateTime::<chrono::Utc>::MAX_UTC.naive_utc();
        assert_eq!(sqlite_text(max), chrono_text(max));
    }
}
