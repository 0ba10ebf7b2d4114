//! Who is asking: the console is open (no token configured) or needs a signed-in session, and
//! only a session of the API token with its CSRF token may act.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};

use super::ConsoleState;
use super::error::ConsoleError;
use super::session::{COOKIE, Role, Session};
use crate::ApiState;

/// How to enable actions when no API token is configured.
pub const ACTIONS_DISABLED: &str = "Actions are disabled: set ANTAEUS_API_TOKEN (and sign in with it) to retry, void and refund invoices and start runs from the console.";

/// What the request may see and do.
#[derive(Debug, Clone)]
pub enum Access {
    /// No token is configured: anyone reads, nobody acts.
    Open,
    /// A signed-in session.
    Signed(Session),
}

impl Access {
    /// Whether action buttons are shown.
    pub fn can_act(&self) -> bool {
        matches!(self, Access::Signed(s) if s.role == Role::Act)
    }

    /// Whether a "Sign out" button is shown.
    pub fn signed_in(&self) -> bool {
        matches!(self, Access::Signed(_))
    }

    /// The CSRF token forms carry (signed-in sessions only).
    pub fn csrf(&self, state: &ConsoleState) -> Option<String> {
        match self {
            Access::Open => None,
            Access::Signed(s) => Some(s.csrf(&state.secret)),
        }
    }

    /// The session that may act, given the form's `csrf`; otherwise why not (403).
    pub fn authorize(&self, csrf: &str, state: &ConsoleState) -> Result<(), ConsoleError> {
        match self {
            Access::Open => Err(ConsoleError::Forbidden(ACTIONS_DISABLED.into())),
            Access::Signed(s) if s.role != Role::Act => Err(ConsoleError::Forbidden(
                "Signed in with the read token: viewers cannot act. Sign in with the API token."
                    .into(),
            )),
            Access::Signed(s) if !s.csrf_matches(csrf, &state.secret) => {
                Err(ConsoleError::Forbidden(
                    "The form's CSRF token is missing or wrong: reload the page and try again."
                        .into(),
                ))
            }
            Access::Signed(_) => Ok(()),
        }
    }
}

/// The request's session, if its cookie proves one.
pub fn session_of(req: &HttpRequest, api: &ApiState, state: &ConsoleState) -> Option<Session> {
    let cookie = req.cookie(COOKIE)?;
    Session::verify(
        cookie.value(),
        &api.tokens,
        &state.secret,
        chrono::Utc::now().timestamp(),
    )
}

impl FromRequest for Access {
    type Error = ConsoleError;
    type Future = Ready<Result<Self, ConsoleError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let (Some(api), Some(state)) = (
            req.app_data::<web::Data<ApiState>>(),
            req.app_data::<web::Data<ConsoleState>>(),
        ) else {
            return ready(Err(ConsoleError::Internal("console state missing".into())));
        };
        ready(if !api.tokens.any() {
            Ok(Access::Open)
        } else {
            match session_of(req, api, state) {
                Some(session) => Ok(Access::Signed(session)),
                None if req.method() == actix_web::http::Method::GET => {
                    Err(ConsoleError::SignIn(super::return_to::of_request(req)))
                }
                None => Err(ConsoleError::Forbidden(
                    "Not signed in, or the session has ended: sign in again.".into(),
                )),
            }
        })
    }
}
