//! The operator console: server-rendered pages under `/console` over the same core services as
//! the API, with SVG charts drawn here and a stylesheet and a small script compiled in.
//!
//! Pages work with JavaScript off. When a token is configured, every page needs a session
//! signed in with it ([`session`]); only a session of the API token acts, through POST forms
//! carrying the session's CSRF token. Every response carries a strict CSP and frame denial.

mod access;
mod assets;
mod charts;
mod client_address;
mod customers;
mod error;
mod flash;
mod format;
mod invoice_actions;
mod invoice_page;
mod invoice_payments;
mod invoice_refund;
mod invoices;
mod keys;
mod layout;
mod overview;
mod paging;
mod return_to;
mod run_page;
mod runs;
mod session;
mod sign_in;
mod throttle;

use actix_web::dev::Service;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, guard, web};
use antaeus_core::service::ConsoleService;

pub use client_address::{NotAProxy, TrustedProxies};
pub use session::{ConsoleSecret, MIN_SECRET_LEN, SecretTooShort};
pub use throttle::SignInThrottle;

/// What the console adds to the API's state.
#[derive(Clone)]
pub struct ConsoleState {
    /// The console's reads.
    pub service: ConsoleService,
    /// Signs sessions and CSRF tokens.
    pub secret: ConsoleSecret,
    /// The reverse proxies whose `X-Forwarded-For` names the client whose sign-ins are
    /// throttled (none by default: the TCP peer is the client).
    pub trusted_proxies: TrustedProxies,
}

/// The Content-Security-Policy of every console response: no inline script or style.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Registers `/console/…` (with its security headers) and `/`'s redirect for browsers.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Other methods on `/` answer as before the console: 404.
    cfg.service(
        web::resource("/")
            .route(read().to(root))
            .default_service(web::to(crate::routes::fallback::not_found)),
    )
    .service(
        web::scope("/console")
            .wrap_fn(|req, srv| {
                let response = srv.call(req);
                async move {
                    let mut response = response.await?;
                    secure(response.headers_mut());
                    Ok(response)
                }
            })
            .route("", read().to(overview::get))
            .route("/", read().to(overview::get))
            .route("/assets/console.css", read().to(assets::css))
            .route("/assets/console.js", read().to(assets::js))
            .route("/sign-in", read().to(sign_in::get))
            .route("/sign-in", web::post().to(sign_in::post))
            .route("/sign-out", web::post().to(sign_in::sign_out))
            .route("/runs", read().to(runs::list))
            .route("/runs", web::post().to(runs::start))
            .route("/runs/{id}", read().to(run_page::get))
            .route("/invoices", read().to(invoices::list))
            .route("/invoices/{id}", read().to(invoice_page::get))
            .route(
                "/invoices/{id}/refund",
                web::post().to(invoice_refund::post),
            )
            .route(
                "/invoices/{id}/{action}",
                web::post().to(invoice_actions::post),
            )
            .route("/customers", read().to(customers::list))
            .route("/customers/{id}", read().to(customers::get))
            .default_service(web::to(not_found)),
    );
}

/// A route for GET and HEAD.
fn read() -> actix_web::Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}

fn secure(headers: &mut header::HeaderMap) {
    let set = |headers: &mut header::HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, header::CONTENT_SECURITY_POLICY, CSP);
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    // Pages show money and who owes it: nothing is kept by a browser or a proxy (the two
    // assets are small enough to fetch again).
    set(headers, header::CACHE_CONTROL, "no-store");
}

async fn not_found() -> Result<HttpResponse, error::ConsoleError> {
    Err(error::ConsoleError::NotFound(
        "There is no console page here.".into(),
    ))
}

/// `/`: browsers (asking for HTML) go to the console; API clients get what they got before.
async fn root(req: HttpRequest) -> Result<HttpResponse, crate::ApiError> {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html {
        Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, "/console"))
            .finish())
    } else {
        crate::routes::fallback::not_found(req).await
    }
}
