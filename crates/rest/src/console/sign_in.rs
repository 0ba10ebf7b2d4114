//! `GET|POST /console/sign-in` and `POST /console/sign-out`.
//!
//! Signing in returns to the page that asked for it (`next`, see [`super::return_to`]), and is
//! throttled per client address (see [`super::throttle`]).

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::StatusCode;
use actix_web::http::header::{LOCATION, RETRY_AFTER};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::ConsoleState;
use super::access::{Access, session_of};
use super::client_address::client_address;
use super::error::ConsoleError;
use super::flash::Flash;
use super::layout::{bare_page, html_response};
use super::return_to::{self, OVERVIEW};
use super::session::{COOKIE, SESSION_SECONDS, Session};
use super::throttle::{SignInThrottle, Throttled};
use crate::ApiState;

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    token: String,
    /// The console page to return to.
    #[serde(default)]
    next: String,
}

/// A form that carries only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
}

fn form(alert: Option<&str>, note: Option<Flash>, next: Option<&str>) -> Markup {
    html! {
        @if let Some(alert) = alert {
            p #flash role="alert" class="error" { (alert) }
        }
        @if let Some(note) = note {
            (note.render())
        }
        section {
            form.stack method="post" action="/console/sign-in" {
                @if let Some(next) = next {
                    input type="hidden" name="next" value=(next);
                }
                p {
                    label for="token" { "Token" }
                    input #token name="token" type="password" autocomplete="current-password" required autofocus;
                }
                p.note { "The API token (ANTAEUS_API_TOKEN) may act; the read token (ANTAEUS_READ_TOKEN) only sees." }
                button type="submit" { "Sign in" }
            }
        }
    }
}

/// The sign-in page; the page asked for (or the console) when signed in already or when no
/// token is configured (nothing to sign in to).
pub async fn get(
    req: HttpRequest,
    api: web::Data<ApiState>,
    state: web::Data<ConsoleState>,
) -> HttpResponse {
    let next = query_of(&req, "next");
    let next = next.as_deref().and_then(return_to::safe);
    if !api.tokens.any() || session_of(&req, &api, &state).is_some() {
        return to(next.unwrap_or(OVERVIEW));
    }
    let note = flash_of(&req);
    html_response(StatusCode::OK, bare_page("Sign in", form(None, note, next)))
}

/// Signs in with a token: a session cookie and off to the page asked for (or the overview); a
/// wrong token is 401, and an address that failed too often is 429 whatever its token.
pub async fn post(
    req: HttpRequest,
    api: web::Data<ApiState>,
    state: web::Data<ConsoleState>,
    throttle: web::Data<SignInThrottle>,
    body: web::Form<SignIn>,
) -> HttpResponse {
    let next = return_to::safe(&body.next);
    if !api.tokens.any() {
        return to(next.unwrap_or(OVERVIEW));
    }
    let client = client_address(&req, &state.trusted_proxies);
    let now = state.service.now();
    if let Err(throttled) = throttle.check(client, now) {
        return too_many(throttled, next);
    }
    let issued = Session::issue(
        body.token.trim(),
        &api.tokens,
        &state.secret,
        now.timestamp(),
    );
    let Some(value) = issued else {
        log::warn!("console: sign-in refused (wrong token) from {client}");
        if throttle.failed(client, now) {
            log::warn!(
                "console: sign-in throttled for {client}: too many wrong tokens within a minute"
            );
        }
        return html_response(
            StatusCode::UNAUTHORIZED,
            bare_page(
                "Sign in",
                form(Some("That token is not valid here."), None, next),
            ),
        );
    };
    // A success forgets no failure: otherwise a holder of the read token could guess at the
    // write token without limit, signing in with the read token after every nine guesses.
    let cookie = Cookie::build(COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .max_age(Duration::seconds(SESSION_SECONDS))
        .finish();
    HttpResponse::SeeOther()
        .insert_header((LOCATION, next.unwrap_or(OVERVIEW)))
        .cookie(cookie)
        .finish()
}

/// The 429 page of a throttled address, with `Retry-After`.
fn too_many(throttled: Throttled, next: Option<&str>) -> HttpResponse {
    let wait = throttled.retry_after;
    let alert = format!(
        "Too many wrong tokens from your address: wait {wait} second{} before signing in again.",
        if wait == 1 { "" } else { "s" }
    );
    let mut response = html_response(
        StatusCode::TOO_MANY_REQUESTS,
        bare_page("Sign in", form(Some(&alert), None, next)),
    );
    response.headers_mut().insert(RETRY_AFTER, wait.into());
    response
}

/// Ends the session (the cookie is cleared) and goes back to the sign-in page.
pub async fn sign_out(
    access: Access,
    state: web::Data<ConsoleState>,
    body: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    if let Access::Signed(session) = &access
        && !session.csrf_matches(&body.csrf, &state.secret)
    {
        return Err(ConsoleError::Forbidden(
            "The form's CSRF token is missing or wrong: reload the page and try again.".into(),
        ));
    }
    let mut gone = Cookie::build(COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    gone.make_removal();
    Ok(HttpResponse::SeeOther()
        .insert_header((
            LOCATION,
            format!("/console/sign-in?flash={}", Flash::SignedOut.code()),
        ))
        .cookie(gone)
        .finish())
}

/// A 303 to `path`.
pub fn to(path: impl Into<String>) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, path.into()))
        .finish()
}

/// The flash the request's query names.
pub fn flash_of(req: &HttpRequest) -> Option<Flash> {
    query_of(req, "flash").and_then(|c| Flash::from_code(&c))
}

/// The value of the request's query parameter `name`.
fn query_of(req: &HttpRequest, name: &str) -> Option<String> {
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|mut q| q.remove(name))
}
