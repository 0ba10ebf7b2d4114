//! How values read on a page: times in UTC, optional values as a dash.

use chrono::{DateTime, Utc};

/// `2026-11-30 14:03:05 UTC`.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A due date, or "—" for none (the zero time: invoices stored without one).
pub fn due(t: DateTime<Utc>) -> String {
    if t == DateTime::UNIX_EPOCH {
        DASH.to_owned()
    } else {
        time(t)
    }
}

/// A time, or "—".
pub fn maybe_time(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(|| DASH.to_owned(), time)
}

/// What an absent value shows.
pub const DASH: &str = "—";

/// A value, or "—".
pub fn or_dash<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| DASH.to_owned(), |v| v.to_string())
}
