//! Keyset paging links and the page size of console tables.

use std::fmt::Display;
use std::str::FromStr;

use antaeus_models::PageLimit;

use super::error::ConsoleError;

/// Rows per page of a console table.
pub const PAGE_ROWS: u16 = 50;

/// [`PAGE_ROWS`] as a limit.
pub fn page_limit() -> PageLimit {
    PageLimit::new(PAGE_ROWS).unwrap_or_default()
}

/// The query string of a link: `pairs` with empty values left out, URL-encoded.
pub fn query(pairs: &[(&str, String)]) -> String {
    let kept: Vec<(&str, &str)> = pairs
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    serde_urlencoded::to_string(kept).unwrap_or_default()
}

/// An id in a console path; a malformed one is a missing page (404).
pub fn path_id<T: FromStr>(raw: &str, what: &str) -> Result<T, ConsoleError>
where
    T::Err: Display,
{
    raw.parse()
        .map_err(|e| ConsoleError::NotFound(format!("no {what} {raw:?}: {e}")))
}

/// A keyset cursor from the query (`after`, `before`); absent or empty is none, malformed is 400.
pub fn cursor<T: FromStr>(name: &str, raw: Option<&str>) -> Result<Option<T>, ConsoleError>
where
    T::Err: Display,
{
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|e| ConsoleError::BadRequest(format!("{name}: {e}"))),
    }
}
