//! The simulated provider served over the HTTP payment-provider protocol, so the `http` adapter
//! and other processes can charge through it exactly as they would through a real provider.
//!
//! `POST /charges` speaks the protocol (a key reused for another charge is answered 422
//! `idempotency_key_reused` without reaching the provider), and so does `POST /refunds` (a
//! refund of a charge it made is refunded); `GET /ledger` reports the simulated provider's ledger
//! (`{"calls":..,"charges":..,"doubleCharged":[..]}`) so a test in another process can check
//! that nobody was charged twice.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, ResponseError, web};
use antaeus_core::{
    ChargeDecision, ChargeRequest, PaymentProvider, ProviderError, RefundDecision, RefundRequest,
};
use antaeus_models::{
    Currency, CustomerId, IdempotencyKey, Invoice, InvoiceId, InvoiceStatus, Money, RefundId,
};
use antaeus_rest::same_secret;
use serde::{Deserialize, Serialize};
use serde_json::json;
use thiserror::Error;

use super::SimulatedPaymentProvider;
use super::http::{IDEMPOTENCY_KEY_HEADER, STATUS_CHARGED, STATUS_REFUNDED, codes};
use super::simulator_keys::KeyCharges;

/// Largest request body accepted; a charge request is well under 1 KiB.
const BODY_LIMIT: usize = 16 * 1024;

/// What the handlers share.
struct SimulatorState {
    provider: Arc<SimulatedPaymentProvider>,
    /// `Authorization: Bearer <token>` every request must carry, when set.
    token: Option<String>,
    /// The charge each idempotency key was first used for.
    keys: KeyCharges,
}

/// Serves `provider` on `listener`; the returned server runs until stopped.
///
/// When `token` is set, every request (the ledger too) must carry `Authorization: Bearer <token>`
/// and is otherwise answered 401.
pub fn serve_simulator(
    listener: TcpListener,
    provider: Arc<SimulatedPaymentProvider>,
    token: Option<String>,
) -> std::io::Result<Server> {
    let state = web::Data::new(SimulatorState {
        provider,
        token,
        keys: KeyCharges::default(),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .route("/charges", web::post().to(charge))
            .route("/refunds", web::post().to(refund))
            .route("/ledger", web::get().to(ledger))
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// `POST /charges`: one charge attempt.
async fn charge(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<SimulatorState>,
) -> Result<HttpResponse, SimulatorError> {
    authorize(&req, &state)?;
    let key = idempotency_key(&req)?;
    let invoice = parse_invoice(&req, &body)?;
    if state.keys.check(&key, &invoice).is_err() {
        return Ok(answer_response(Err(ProviderError::IdempotencyKeyReused)));
    }
    let answer = state
        .provider
        .charge(&ChargeRequest::new(invoice, key))
        .await;
    Ok(answer_response(answer))
}

/// `POST /refunds`: one refund of a charge the simulated provider made.
async fn refund(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<SimulatorState>,
) -> Result<HttpResponse, SimulatorError> {
    authorize(&req, &state)?;
    let key = idempotency_key(&req)?;
    let asked: RefundBody =
        serde_json::from_slice(&body).map_err(|e| bad_request(e.to_string()))?;
    let amount = parse_amount(&asked.amount, asked.currency)?;
    if !asked.charge_id.starts_with("sim_") {
        return Ok(HttpResponse::NotFound().json(json!({ "error": codes::CHARGE_NOT_FOUND })));
    }
    let invalid = |e: antaeus_models::ModelError| bad_request(e.to_string());
    let invoice = Invoice::new(
        InvoiceId::new(asked.invoice_id).map_err(invalid)?,
        CustomerId::new(1).map_err(invalid)?,
        amount,
        InvoiceStatus::Paid,
    );
    let request = RefundRequest {
        refund: RefundId::new(asked.refund_id).map_err(invalid)?,
        invoice,
        payment_ref: asked.charge_id,
        amount,
        reason: asked.reason,
        key,
        namespace: None,
        resend: false,
    };
    Ok(match state.provider.refund(&request).await {
        Ok(RefundDecision::Refunded { refund_ref }) => {
            HttpResponse::Ok().json(json!({ "status": STATUS_REFUNDED, "refund_id": refund_ref }))
        }
        Ok(RefundDecision::Refused { code }) => {
            HttpResponse::Conflict().json(json!({ "error": code }))
        }
        Err(err) => answer_response(Err(err)),
    })
}

/// The body of `POST /refunds`.
#[derive(Deserialize)]
struct RefundBody {
    refund_id: i64,
    invoice_id: i64,
    charge_id: String,
    amount: String,
    currency: Currency,
    #[serde(default)]
    reason: Option<String>,
}

/// `GET /ledger`: the simulated provider's totals.
async fn ledger(
    req: HttpRequest,
    state: web::Data<SimulatorState>,
) -> Result<HttpResponse, SimulatorError> {
    authorize(&req, &state)?;
    let summary = state.provider.summary();
    Ok(HttpResponse::Ok().json(LedgerBody {
        calls: summary.calls,
        charges: summary.charges,
        double_charged: summary.double_charged.iter().map(|id| id.get()).collect(),
    }))
}

/// Why a request was refused before reaching the provider.
#[derive(Debug, Error)]
enum SimulatorError {
    /// The request is not a valid protocol request.
    #[error("{0}")]
    BadRequest(String),
    /// A token is configured and the request does not carry it.
    #[error("missing or wrong bearer token")]
    Unauthorized,
}

impl ResponseError for SimulatorError {
    fn status_code(&self) -> StatusCode {
        match self {
            SimulatorError::BadRequest(_) => StatusCode::BAD_REQUEST,
            SimulatorError::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).json(json!({ "error": self.to_string() }))
    }
}

fn bad_request(message: impl Into<String>) -> SimulatorError {
    SimulatorError::BadRequest(message.into())
}

/// The body of `GET /ledger`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LedgerBody {
    calls: u64,
    charges: u64,
    double_charged: Vec<i64>,
}

/// The body of `POST /charges` as sent; the amount is checked separately.
#[derive(Deserialize)]
struct ChargeBody {
    invoice_id: i64,
    customer_id: i64,
    amount: String,
    currency: Currency,
}

fn authorize(req: &HttpRequest, state: &SimulatorState) -> Result<(), SimulatorError> {
    let Some(token) = &state.token else {
        return Ok(());
    };
    let expected = format!("Bearer {token}");
    let given = req.headers().get(header::AUTHORIZATION);
    match given {
        Some(given) if same_secret(given.as_bytes(), expected.as_bytes()) => Ok(()),
        _ => Err(SimulatorError::Unauthorized),
    }
}

fn idempotency_key(req: &HttpRequest) -> Result<IdempotencyKey, SimulatorError> {
    let raw = req
        .headers()
        .get(IDEMPOTENCY_KEY_HEADER)
        .ok_or_else(|| bad_request("the Idempotency-Key header is required"))?;
    let text = raw
        .to_str()
        .map_err(|_| bad_request("the Idempotency-Key header is not visible ASCII"))?;
    IdempotencyKey::parse(text).map_err(|e| bad_request(e.to_string()))
}

fn parse_invoice(req: &HttpRequest, body: &[u8]) -> Result<Invoice, SimulatorError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|m| m.trim() == "application/json")
        });
    if !is_json {
        return Err(bad_request("Content-Type must be application/json"));
    }
    let body: ChargeBody = serde_json::from_slice(body).map_err(|e| bad_request(e.to_string()))?;
    let invalid = |e: antaeus_models::ModelError| bad_request(e.to_string());
    let id = InvoiceId::new(body.invoice_id).map_err(invalid)?;
    let customer = CustomerId::new(body.customer_id).map_err(invalid)?;
    let amount = parse_amount(&body.amount, body.currency)?;
    Ok(Invoice::new(id, customer, amount, InvoiceStatus::Pending))
}

/// Parses a plain decimal string (`"123.45"`, `"10"`) exactly, through minor units: no sign,
/// exponent, spaces, or non-zero digits beyond the currency's minor unit.
fn parse_amount(text: &str, currency: Currency) -> Result<Money, SimulatorError> {
    let invalid = || bad_request(format!("amount {text:?} is not a plain decimal string"));
    let digits = usize::try_from(currency.minor_unit_digits()).map_err(|_| invalid())?;
    let (whole, fraction) = match text.split_once('.') {
        Some((_, "")) => return Err(invalid()),
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        return Err(invalid());
    }
    let (kept, dropped) = fraction.split_at(fraction.len().min(digits));
    if dropped.bytes().any(|b| b != b'0') {
        return Err(bad_request(format!(
            "amount {text:?} has fractions of a minor unit"
        )));
    }
    let minor: i64 = format!("{whole}{kept:0<digits$}")
        .parse()
        .map_err(|_| bad_request(format!("amount {text:?} is too large")))?;
    Money::from_minor(minor, currency).map_err(|e| bad_request(e.to_string()))
}

/// The protocol's answer for what the simulated provider did.
fn answer_response(answer: Result<ChargeDecision, ProviderError>) -> HttpResponse {
    let error =
        |status: StatusCode, code: &str| HttpResponse::build(status).json(json!({ "error": code }));
    match answer {
        Ok(ChargeDecision::Charged { charge_id }) => {
            HttpResponse::Ok().json(json!({ "status": STATUS_CHARGED, "charge_id": charge_id }))
        }
        Ok(ChargeDecision::Declined { .. }) => error(StatusCode::PAYMENT_REQUIRED, codes::DECLINED),
        Ok(ChargeDecision::CustomerNotFound) => {
            error(StatusCode::NOT_FOUND, codes::CUSTOMER_NOT_FOUND)
        }
        Ok(ChargeDecision::CurrencyMismatch) => {
            error(StatusCode::CONFLICT, codes::CURRENCY_MISMATCH)
        }
        // The protocol has no such answer; the simulated provider never gives it.
        Ok(ChargeDecision::AmountNotChargeable { .. }) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
        }
        Err(ProviderError::Unauthorized(_)) => error(StatusCode::UNAUTHORIZED, "unauthorized"),
        Err(ProviderError::InProgress) => error(StatusCode::CONFLICT, codes::REQUEST_IN_PROGRESS),
        Err(ProviderError::IdempotencyKeyReused) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            codes::IDEMPOTENCY_KEY_REUSED,
        ),
        // The simulated provider may have charged already: only a resend under the key tells.
        Err(ProviderError::Network(_)) => error(StatusCode::SERVICE_UNAVAILABLE, "network_error"),
        Err(ProviderError::Timeout) => error(StatusCode::GATEWAY_TIMEOUT, "timeout"),
        Err(ProviderError::Unavailable { status, .. }) => error(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            "unavailable",
        ),
        Err(ProviderError::Processing { .. }) => error(StatusCode::ACCEPTED, "processing"),
        Err(ProviderError::Protocol(_)) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, "internal_error")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minor(text: &str) -> Result<i64, SimulatorError> {
        parse_amount(text, Currency::EUR).map(|m| m.to_minor())
    }

    #[test]
    fn plain_decimal_amounts_are_read_exactly() {
        for (text, expected) in [
            ("123.45", 12_345),
            ("10", 1_000),
            ("10.5", 1_050),
            ("0.01", 1),
            ("0", 0),
            ("7.000", 700),
            ("92233720368547758.07", i64::MAX),
        ] {
            assert_eq!(minor(text).ok(), Some(expected), "{text}");
        }
    }

    #[test]
    fn other_amount_texts_are_refused() {
        for text in [
            "",
            ".5",
            "5.",
            "-1",
            "+1",
            "1e3",
            " 1",
            "1,00",
            "1.001",
            "1.2.3",
            "abc",
            "92233720368547758.08",
            "99999999999999999999999",
        ] {
            assert!(minor(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn tokens_compare_by_full_content() {
        assert!(same_secret(b"Bearer abc", b"Bearer abc"));
        assert!(!same_secret(b"Bearer abd", b"Bearer abc"));
        assert!(!same_secret(b"Bearer ab", b"Bearer abc"));
    }

    #[test]
    fn every_answer_has_its_protocol_status() {
        let cases = [
            (
                Ok(ChargeDecision::Charged {
                    charge_id: "c".into(),
                }),
                200,
            ),
            (
                Ok(ChargeDecision::Declined {
                    code: None,
                    action_required: false,
                    provider_ref: None,
                }),
                402,
            ),
            (Ok(ChargeDecision::CustomerNotFound), 404),
            (Ok(ChargeDecision::CurrencyMismatch), 409),
            (Err(ProviderError::InProgress), 409),
            (Err(ProviderError::IdempotencyKeyReused), 422),
            (Err(ProviderError::Network("lost".into())), 503),
            (Err(ProviderError::Timeout), 504),
        ];
        for (answer, status) in cases {
            assert_eq!(
                answer_response(answer.clone()).status().as_u16(),
                status,
                "{answer:?}"
            );
        }
    }
}
