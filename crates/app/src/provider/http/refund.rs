//! Refunds over the HTTP provider protocol: `POST {base_url}/refunds` under the refund's own
//! idempotency key (see `docs/payment-provider-http.md`).

use std::time::Duration;

use antaeus_core::{ProviderError, RefundDecision, RefundRequest};
use antaeus_models::Currency;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ErrorBody, codes, quote};

/// The `status` of a 200 answer to a refund.
pub(crate) const STATUS_REFUNDED: &str = "refunded";

/// The body of `POST /refunds`.
#[derive(Debug, Serialize)]
pub(crate) struct RefundBody {
    refund_id: i64,
    invoice_id: i64,
    /// The charge refunded: the `charge_id` the provider answered the charge with.
    charge_id: String,
    /// The exact decimal value as a string, never a float.
    amount: String,
    currency: Currency,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl RefundBody {
    pub(crate) fn of(request: &RefundRequest) -> Self {
        Self {
            refund_id: request.refund.get(),
            invoice_id: request.invoice.id.get(),
            charge_id: request.payment_ref.clone(),
            amount: request.amount.value().to_string(),
            currency: request.amount.currency(),
            reason: request.reason.clone(),
        }
    }
}

/// A 200 answer's body.
#[derive(Deserialize)]
struct RefundedBody {
    status: String,
    refund_id: String,
}

/// The protocol's table for the answer to a refund.
pub(crate) fn interpret(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<RefundDecision, ProviderError> {
    match status.as_u16() {
        200 => match serde_json::from_slice::<RefundedBody>(body) {
            Ok(b) if b.status == STATUS_REFUNDED && !b.refund_id.is_empty() => {
                Ok(RefundDecision::Refunded {
                    refund_ref: b.refund_id,
                })
            }
            _ => Err(ProviderError::Protocol(
                "200 to a refund without a valid refunded body".into(),
            )),
        },
        404 | 409 | 422 => {
            let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(body) else {
                return Err(ProviderError::Protocol(format!(
                    "{} to a refund without a protocol error body",
                    status.as_u16()
                )));
            };
            match (status.as_u16(), error.as_str()) {
                (404, codes::CHARGE_NOT_FOUND) | (409, codes::REFUND_EXCEEDS_CHARGE) => {
                    Ok(RefundDecision::Refused { code: error })
                }
                (409, codes::REQUEST_IN_PROGRESS) => Err(ProviderError::InProgress),
                (422, codes::IDEMPOTENCY_KEY_REUSED) => Err(ProviderError::IdempotencyKeyReused),
                (code, _) => Err(ProviderError::Protocol(format!(
                    "{code} to a refund with unknown error {:?}",
                    quote(&error)
                ))),
            }
        }
        429 | 500..=599 => Err(ProviderError::Unavailable {
            status: status.as_u16(),
            retry_after,
        }),
        _ => Err(ProviderError::Protocol(format!(
            "unexpected status {status} to a refund"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    #[test]
    fn refunds_are_decided_only_by_the_protocols_bodies() {
        assert_eq!(
            interpret(
                status(200),
                br#"{"status":"refunded","refund_id":"rf_1"}"#,
                None
            ),
            Ok(RefundDecision::Refunded {
                refund_ref: "rf_1".into()
            })
        );
        assert_eq!(
            interpret(status(409), br#"{"error":"refund_exceeds_charge"}"#, None),
            Ok(RefundDecision::Refused {
                code: "refund_exceeds_charge".into()
            })
        );
        assert_eq!(
            interpret(status(404), br#"{"error":"charge_not_found"}"#, None),
            Ok(RefundDecision::Refused {
                code: "charge_not_found".into()
            })
        );
        assert_eq!(
            interpret(status(422), br#"{"error":"idempotency_key_reused"}"#, None),
            Err(ProviderError::IdempotencyKeyReused)
        );
        for (code, body) in [
            (404, &b"<html>Not Found</html>"[..]),
            (200, br#"{"status":"charged","charge_id":"c"}"#),
            (409, br#"{"error":"currency_mismatch"}"#),
            (400, b""),
        ] {
            assert!(
                matches!(
                    interpret(status(code), body, None),
                    Err(ProviderError::Protocol(_))
                ),
                "{code}"
            );
        }
        assert!(matches!(
            interpret(status(503), b"", None),
            Err(ProviderError::Unavailable { status: 503, .. })
        ));
    }
}
