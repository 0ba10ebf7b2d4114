//! Responses for keyset-paginated listings, with a `Link: <…>; rel="next"` header.

use actix_web::http::header::{HeaderValue, LINK};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

/// A 200 with `items` as a JSON array; when the page came back full, a `Link` header to the page
/// after the last item (`?after=<last id>`), keeping every other query parameter.
pub fn page_response<T, J: Serialize>(
    req: &HttpRequest,
    items: &[T],
    limit: u16,
    id_of: impl Fn(&T) -> i64,
    to_json: impl Fn(&T) -> J,
) -> HttpResponse {
    page_response_with_cursor(req, "after", items, limit, id_of, to_json)
}

/// [`page_response`] with another cursor parameter (e.g. `before` for newest-first lists).
pub fn page_response_with_cursor<T, J: Serialize>(
    req: &HttpRequest,
    cursor: &str,
    items: &[T],
    limit: u16,
    id_of: impl Fn(&T) -> i64,
    to_json: impl Fn(&T) -> J,
) -> HttpResponse {
    let next = if items.len() >= usize::from(limit) {
        items.last().map(id_of)
    } else {
        None
    };
    page_response_to(req, cursor, items, next, to_json)
}

/// A 200 with `items` as a JSON array and, when `next` is given, a `Link` header to the page
/// after it (`?<cursor>=<next>`), keeping every other query parameter: for a page that may
/// come back short and still have pages after it (a search bounded to a window of ids).
pub fn page_response_to<T, J: Serialize>(
    req: &HttpRequest,
    cursor: &str,
    items: &[T],
    next: Option<i64>,
    to_json: impl Fn(&T) -> J,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(link) = next.and_then(|next| next_link(req, cursor, next)) {
        response.insert_header((LINK, link));
    }
    response.json(items.iter().map(to_json).collect::<Vec<J>>())
}

fn next_link(req: &HttpRequest, cursor: &str, last_id: i64) -> Option<HeaderValue> {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.retain(|(name, _)| name != cursor);
    pairs.push((cursor.into(), last_id.to_string()));
    let query = serde_urlencoded::to_string(&pairs).ok()?;
    HeaderValue::from_str(&format!("<{}?{}>; rel=\"next\"", req.path(), query)).ok()
}
