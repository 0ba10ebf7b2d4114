//! Responses for keyset-paginated listings, with a `Link: <…>; rel="next"` header.

use actix_web::http::header::{HeaderValue, LINK};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

/// A 200 with `items` as a JSON array; when the page came back full, a `Link` header to the page
/// after the last item, keeping every other query parameter of the request.
pub fn page_response<T, J: Serialize>(
    req: &HttpRequest,
    items: &[T],
    limit: u16,
    id_of: impl Fn(&T) -> i64,
    to_json: impl Fn(&T) -> J,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if items.len() >= usize::from(limit)
        && let Some(link) = items.last().and_then(|last| next_link(req, id_of(last)))
    {
        response.insert_header((LINK, link));
    }
    response.json(items.iter().map(to_json).collect::<Vec<J>>())
}

fn next_link(req: &HttpRequest, last_id: i64) -> Option<HeaderValue> {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs.retain(|(name, _)| name != "after");
    pairs.push(("after".into(), last_id.to_string()));
    let query = serde_urlencoded::to_string(&pairs).ok()?;
    HeaderValue::from_str(&format!("<{}?{}>; rel=\"next\"", req.path(), query)).ok()
}
