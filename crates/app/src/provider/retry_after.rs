//! The `Retry-After` header of a 429 or 5xx answer (RFC 9110, section 10.2.3): how long the
//! provider asked us to wait before the next request.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

/// The longest wait taken from a provider: a larger value (a year, a number of seconds that
/// overflows) is a misconfigured server, and the engine treats anything over a minute the
/// same way anyway (it leaves the outcome unknown for a later run).
pub(super) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// The HTTP-date forms a recipient must accept: IMF-fixdate, then the obsolete RFC 850 and
/// asctime forms.
const HTTP_DATE_FORMATS: [&str; 3] = [
    "%a, %d %b %Y %H:%M:%S GMT",
    "%A, %d-%b-%y %H:%M:%S GMT",
    "%a %b %e %H:%M:%S %Y",
];

/// The wait `value` asks for at `now`: delta-seconds, or an HTTP-date (a date already past is
/// no wait), at most [`MAX_RETRY_AFTER`]; `None` for anything else, which is ignored.
pub(super) fn parse(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Only digits but too many for a u64: absurd, so capped rather than ignored.
        value.parse().map_or(MAX_RETRY_AFTER, Duration::from_secs)
    } else {
        let at = http_date(value)?;
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// `value` as an HTTP-date, which is always in UTC.
fn http_date(value: &str) -> Option<DateTime<Utc>> {
    HTTP_DATE_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(value, format).ok())
        .map(|at| at.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("1994-11-06T08:49:00Z")
            .unwrap()
            .to_utc()
    }

    fn secs(n: u64) -> Option<Duration> {
        Some(Duration::from_secs(n))
    }

    #[test]
    fn delta_seconds_are_the_wait() {
        for (value, expected) in [("0", secs(0)), ("2", secs(2)), (" 120 ", secs(120))] {
            assert_eq!(parse(value, now()), expected, "{value:?}");
        }
    }

    #[test]
    fn an_http_date_is_a_wait_from_now_in_each_of_its_forms() {
        for value in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse(value, now()), secs(37), "{value:?}");
        }
    }

    #[test]
    fn a_date_already_past_is_no_wait() {
        assert_eq!(parse("Sun, 06 Nov 1994 08:48:00 GMT", now()), secs(0));
    }

    #[test]
    fn absurd_waits_are_capped() {
        let cap = Some(MAX_RETRY_AFTER);
        for value in [
            "86400",
            "99999999999999999999999999",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            assert_eq!(parse(value, now()), cap, "{value:?}");
        }
    }

    #[test]
    fn garbage_is_ignored() {
        for value in [
            "",
            "soon",
            "-1",
            "1.5",
            "+3",
            "2 s",
            "0x10",
            "Sun, 06 Nov 1994 08:49:37",
            "Sun, 06 Nov 1994 08:49:37 CET",
            "1994-11-06T08:49:37Z",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse(value, now()), None, "{value:?}");
        }
    }
}
