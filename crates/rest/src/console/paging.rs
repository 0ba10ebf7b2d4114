//! Keyset paging links and the page size of console tables.

use antaeus_models::PageLimit;

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
