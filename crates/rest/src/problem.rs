//! RFC 9457 problem details, the body of every error response.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use antaeus_core::ServiceError;
use antaeus_core::billing::BillingError;
use antaeus_core::error_report::one_line;
use antaeus_core::store::StoreError;
use serde::Serialize;
use thiserror::Error;

/// The media type of problem bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// A URI reference naming the problem type; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the problem type (the status's reason phrase for `about:blank`).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, for a human.
    pub detail: String,
}

impl Problem {
    /// A problem of type `about:blank` with the status's reason phrase as title.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }

    /// The problem as an HTTP response with the problem+json media type.
    pub fn into_response(self) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = HttpResponse::build(status);
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from_static("5")));
        }
        response.json(self)
    }
}

/// Every way a request can fail, mapped to a status code once, in [`ResponseError`].
#[derive(Debug, Error)]
pub enum ApiError {
    /// The request is malformed: a bad id, query parameter or body.
    #[error("{0}")]
    BadRequest(String),
    /// The resource does not exist.
    #[error("{0}")]
    NotFound(String),
    /// No valid token was presented.
    #[error("{0}")]
    Unauthorized(String),
    /// The endpoint is disabled (no token configured).
    #[error("{0}")]
    Forbidden(String),
    /// The request conflicts with the resource's state.
    #[error("{0}")]
    Conflict(String),
    /// The request is too large to take: a body over the limit, a batch of too many items.
    #[error("{0}")]
    TooLarge(String),
    /// An idempotency key reused with a different request.
    #[error("{0}")]
    Unprocessable(String),
    /// An unexpected failure (a bug); logged, answered in general terms.
    #[error("{0}")]
    Internal(String),
    /// The path exists but not for this method; `allow` lists the methods it takes.
    #[error("{detail}")]
    MethodNotAllowed {
        /// What was asked.
        detail: String,
        /// The `Allow` header value, e.g. `"GET"`.
        allow: &'static str,
    },
    /// A service call failed.
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Service(err) => service_status(err),
        }
    }

    fn error_response(&self) -> HttpResponse {
        // A 503 carries `Retry-After` (see `Problem::into_response`).
        let mut response = self.to_problem().into_response();
        match self {
            ApiError::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"antaeus\""),
                );
            }
            ApiError::MethodNotAllowed { allow, .. } => {
                response
                    .headers_mut()
                    .insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            _ => {}
        }
        response
    }
}

impl ApiError {
    /// The problem this error answers with: the response body, or one item's answer in a
    /// batch. A server error is logged and described in general terms only.
    pub fn to_problem(&self) -> Problem {
        let status = self.status_code();
        let detail = if status.is_server_error() {
            // The chain may name tables or hosts: log it, answer in general terms.
            log::error!("request failed: {}", one_line(self));
            if matches!(
                self,
                ApiError::Service(ServiceError::Billing(BillingError::ShuttingDown))
            ) {
                "this instance is shutting down; try again".to_owned()
            } else if status == StatusCode::SERVICE_UNAVAILABLE {
                "the database is unavailable; try again shortly".to_owned()
            } else {
                "the server failed to complete the request".to_owned()
            }
        } else {
            self.to_string()
        };
        let mut problem = Problem::new(status, detail);
        if let Some((kind, title)) = self.problem_type() {
            problem.kind = kind.into();
            problem.title = title.into();
        }
        problem
    }

    /// A problem type (and its title) more precise than the status, for clients that act on
    /// it.
    fn problem_type(&self) -> Option<(&'static str, &'static str)> {
        let ApiError::Service(err) = self else {
            return None;
        };
        Some(match err {
            ServiceError::CurrencyMismatch { .. } => {
                (PROBLEM_CURRENCY_MISMATCH, "Currency mismatch")
            }
            ServiceError::UnknownCustomer(_) => (PROBLEM_UNKNOWN_CUSTOMER, "Unknown customer"),
            ServiceError::KeyReused(_) | ServiceError::Billing(BillingError::KeyReused { .. }) => {
                (PROBLEM_KEY_REUSED, "Idempotency key reused")
            }
            ServiceError::CustomerConflict { .. } | ServiceError::InvoiceConflict { .. } => {
                (PROBLEM_EXTERNAL_ID_CONFLICT, "External id conflict")
            }
            ServiceError::CurrencyLocked(_) => (PROBLEM_CURRENCY_LOCKED, "Currency locked"),
            ServiceError::InvoiceCharging(_) => (PROBLEM_INVOICE_CHARGING, "Invoice being charged"),
            ServiceError::InvoicePaid(_) => (PROBLEM_INVOICE_PAID, "Invoice paid"),
            ServiceError::InvoiceVoid(_) => (PROBLEM_INVOICE_VOID, "Invoice void"),
            ServiceError::OutcomeUnknown { .. } => (PROBLEM_OUTCOME_UNKNOWN, "Outcome unknown"),
            ServiceError::RefundRefused(_) => (PROBLEM_REFUND_REFUSED, "Refund refused"),
            ServiceError::AmountNotChargeable(_) => {
                (PROBLEM_AMOUNT_NOT_CHARGEABLE, "Amount not chargeable")
            }
            ServiceError::PaymentMayComplete { .. } => {
                (PROBLEM_PAYMENT_MAY_COMPLETE, "Payment may complete")
            }
            _ => return None,
        })
    }
}

/// The problem type of an invoice whose currency is not its customer's.
pub const PROBLEM_CURRENCY_MISMATCH: &str = "urn:antaeus:problem:currency_mismatch";
/// The problem type of an invoice for a customer that does not exist.
pub const PROBLEM_UNKNOWN_CUSTOMER: &str = "urn:antaeus:problem:unknown_customer";
/// The problem type of an idempotency key reused for a different request.
pub const PROBLEM_KEY_REUSED: &str = "urn:antaeus:problem:idempotency_key_reused";
/// The problem type of an external id that names an existing resource with other fields.
pub const PROBLEM_EXTERNAL_ID_CONFLICT: &str = "urn:antaeus:problem:external_id_conflict";
/// The problem type of a currency change refused because the customer has invoices.
pub const PROBLEM_CURRENCY_LOCKED: &str = "urn:antaeus:problem:currency_locked";
/// The problem type of an invoice that cannot change while it is being charged (try later).
pub const PROBLEM_INVOICE_CHARGING: &str = "urn:antaeus:problem:invoice_charging";
/// The problem type of an invoice that cannot change because it is paid (final).
pub const PROBLEM_INVOICE_PAID: &str = "urn:antaeus:problem:invoice_paid";
/// The problem type of an invoice that cannot change because it is void (final).
pub const PROBLEM_INVOICE_VOID: &str = "urn:antaeus:problem:invoice_void";
/// The problem type of a refund that cannot be made: the invoice is not PAID, or less is left
/// than asked (nothing was sent).
pub const PROBLEM_REFUND_REFUSED: &str = "urn:antaeus:problem:refund_refused";
/// The problem type of an amount the payment provider will never charge.
pub const PROBLEM_AMOUNT_NOT_CHARGEABLE: &str = "urn:antaeus:problem:amount_not_chargeable";
/// The problem type of an invoice that cannot be voided while its last charge's outcome is
/// unknown (try again once a resend has told).
pub const PROBLEM_OUTCOME_UNKNOWN: &str = "urn:antaeus:problem:outcome_unknown";
/// The problem type of an invoice that cannot be voided while a payment of it may still
/// complete at the provider.
pub const PROBLEM_PAYMENT_MAY_COMPLETE: &str = "urn:antaeus:problem:payment_may_complete";

fn service_status(err: &ServiceError) -> StatusCode {
    match err {
        ServiceError::CustomerNotFound(_)
        | ServiceError::InvoiceNotFound(_)
        | ServiceError::RunNotFound(_)
        | ServiceError::EventNotFound(_)
        | ServiceError::WebhooksOff => StatusCode::NOT_FOUND,
        ServiceError::WebhookRejected(_) => StatusCode::BAD_REQUEST,
        ServiceError::InvoiceCharging(_)
        | ServiceError::InvoicePaid(_)
        | ServiceError::InvoiceVoid(_)
        | ServiceError::OutcomeUnknown { .. }
        | ServiceError::PaymentMayComplete { .. }
        | ServiceError::RefundRefused(_)
        | ServiceError::CustomerConflict { .. }
        | ServiceError::InvoiceConflict { .. }
        | ServiceError::CurrencyLocked(_) => StatusCode::CONFLICT,
        ServiceError::Billing(BillingError::KeyReused { .. })
        | ServiceError::KeyReused(_)
        | ServiceError::UnknownCustomer(_)
        | ServiceError::CurrencyMismatch { .. }
        | ServiceError::AmountNotChargeable(_)
        | ServiceError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ServiceError::Billing(BillingError::ShuttingDown)
        | ServiceError::Store(StoreError::Unavailable(_))
        | ServiceError::Billing(BillingError::Store(StoreError::Unavailable(_))) => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ServiceError::Store(_) | ServiceError::Billing(BillingError::Store(_)) => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
