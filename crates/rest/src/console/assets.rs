//! The stylesheet and the script, compiled into the binary (no CDN: consoles run on private
//! networks).

use actix_web::HttpResponse;
use actix_web::http::header::CONTENT_TYPE;

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// `GET /console/assets/console.css`.
pub async fn css() -> HttpResponse {
    asset("text/css; charset=utf-8", CSS)
}

/// `GET /console/assets/console.js`.
pub async fn js() -> HttpResponse {
    asset("text/javascript; charset=utf-8", JS)
}

fn asset(kind: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, kind))
        .body(body)
}
