//! `GET|POST /console/sign-in` and `POST /console/sign-out`.

use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, html};
use serde::Deserialize;

use super::ConsoleState;
use super::access::{Access, session_of, tokens_configured};
use super::error::ConsoleError;
use super::flash::Flash;
use super::layout::{bare_page, html_response};
use super::session::{COOKIE, Role, SESSION_SECONDS, Session};
use crate::ApiState;

/// The sign-in form's fields.
#[derive(Deserialize)]
pub struct SignIn {
    #[serde(default)]
    token: String,
}

/// A form that carries only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    /// The session's CSRF token.
    #[serde(default)]
    pub csrf: String,
}

fn form(alert: Option<&str>, note: Option<Flash>) -> Markup {
    html! {
        @if let Some(alert) = alert {
            p #flash role="alert" class="error" { (alert) }
        }
        @if let Some(note) = note {
            (note.render())
        }
        section {
            form.stack method="post" action="/console/sign-in" {
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

/// The sign-in page; the console itself when no token is configured (nothing to sign in to).
pub async fn get(
    req: HttpRequest,
    api: web::Data<ApiState>,
    state: web::Data<ConsoleState>,
) -> HttpResponse {
    if !tokens_configured(&api) || session_of(&req, &api, &state).is_some() {
        return to("/console");
    }
    let note = flash_of(&req);
    html_response(StatusCode::OK, bare_page("Sign in", form(None, note)))
}

/// Signs in with a token: a session cookie and off to the overview; a wrong token is 401.
pub async fn post(
    req: HttpRequest,
    api: web::Data<ApiState>,
    state: web::Data<ConsoleState>,
    body: web::Form<SignIn>,
) -> HttpResponse {
    if !tokens_configured(&api) {
        return to("/console");
    }
    let now = chrono::Utc::now().timestamp();
    let issued = Role::of_token(body.token.trim(), &api.tokens)
        .and_then(|role| Session::issue(role, &api.tokens, &state.secret, now));
    let Some(value) = issued else {
        log::warn!(
            "console: sign-in refused (wrong token) from {}",
            req.connection_info()
                .realip_remote_addr()
                .unwrap_or("an unknown peer")
        );
        return html_response(
            StatusCode::UNAUTHORIZED,
            bare_page("Sign in", form(Some("That token is not valid here."), None)),
        );
    };
    let cookie = Cookie::build(COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(req.connection_info().scheme() == "https")
        .max_age(Duration::seconds(SESSION_SECONDS))
        .finish();
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/console"))
        .cookie(cookie)
        .finish()
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
    web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("flash").and_then(|c| Flash::from_code(c)))
}
