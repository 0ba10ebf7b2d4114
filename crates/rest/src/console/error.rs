//! What goes wrong in the console, answered as HTML pages (never as API problems).

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, ResponseError};
use antaeus_core::ServiceError;
use antaeus_core::error_report::one_line;
use maud::html;

use super::layout::bare_page;

/// Why a console request did not render its page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Tokens are configured and the request has no valid session: go and sign in, then
    /// return to the page asked for (`None`: the overview).
    #[error("sign in first")]
    SignIn(Option<String>),
    /// Not allowed (no API token configured, a viewer, a bad CSRF token).
    #[error("{0}")]
    Forbidden(String),
    /// No such page or record.
    #[error("{0}")]
    NotFound(String),
    /// A malformed id or parameter.
    #[error("{0}")]
    BadRequest(String),
    /// Storage failed, or a bug.
    #[error("{0}")]
    Internal(String),
}

impl From<ServiceError> for ConsoleError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::InvoiceNotFound(_)
            | ServiceError::RunNotFound(_)
            | ServiceError::CustomerNotFound(_) => ConsoleError::NotFound(err.to_string()),
            other => {
                log::error!("console: {}", one_line(&other));
                ConsoleError::Internal("The service could not answer; see its log.".into())
            }
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignIn(_) => StatusCode::SEE_OTHER,
            ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::NotFound(_) => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ConsoleError::SignIn(next) = self {
            return HttpResponse::SeeOther()
                .insert_header((LOCATION, super::return_to::sign_in_page(next.as_deref())))
                .finish();
        }
        let status = self.status_code();
        let title = status.canonical_reason().unwrap_or("Error");
        let body = html! {
            p #flash role="alert" class="error" { (self.to_string()) }
            p { a href="/console" { "Back to the overview" } }
        };
        super::layout::html_response(status, bare_page(title, body))
    }
}
