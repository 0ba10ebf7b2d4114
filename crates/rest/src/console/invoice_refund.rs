//! `POST /console/invoices/{id}/refund`: the API's refund, from the invoice page's form with the
//! session's CSRF token and the form's own idempotency key, answered by a redirect to the page
//! with what came of it.

use actix_web::{HttpResponse, web};
use antaeus_core::ServiceError;
use antaeus_models::{IdempotencyKey, Invoice, InvoiceId, InvoiceStatus, Refund, RefundStatus};
use rust_decimal::Decimal;
use serde::Deserialize;

use super::ConsoleState;
use super::access::Access;
use super::error::ConsoleError;
use super::flash::Flash;
use super::paging::path_id;
use super::sign_in::to;
use crate::ApiState;
use crate::json::positive_decimal;

/// The refund form's fields (missing ones read as empty).
#[derive(Debug, Deserialize)]
pub struct RefundForm {
    #[serde(default)]
    csrf: String,
    /// The key the page made for this form: sent twice, it refunds once.
    #[serde(default)]
    key: String,
    /// Blank: what is left.
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

/// What the form asks for, read; or the flash that says why it is not sent.
struct Asked {
    amount: Option<Decimal>,
    reason: Option<String>,
    key: IdempotencyKey,
}

impl RefundForm {
    fn read(&self) -> Result<Asked, Flash> {
        let key = IdempotencyKey::parse(self.key.trim().to_owned()).map_err(|_| Flash::BadKey)?;
        let amount = match self.amount.trim() {
            "" => None,
            text => Some(positive_decimal(text).map_err(|_| Flash::RefundInvalid)?),
        };
        let reason = Some(self.reason.trim().to_owned()).filter(|r| !r.is_empty());
        Ok(Asked {
            amount,
            reason,
            key,
        })
    }
}

/// Refunds the invoice through [`antaeus_core::service::RefundService`], as
/// `POST /rest/v1/invoices/{id}/refunds` does with the form's key as its `Idempotency-Key`.
pub async fn post(
    access: Access,
    state: web::Data<ConsoleState>,
    api: web::Data<ApiState>,
    id: web::Path<String>,
    form: web::Form<RefundForm>,
) -> Result<HttpResponse, ConsoleError> {
    access.authorize(&form.csrf, &state)?;
    let id: InvoiceId = path_id(&id, "invoice")?;
    let flash = match form.read() {
        Err(flash) => flash,
        Ok(asked) => {
            let result = api
                .refunds
                .refund(id, asked.amount, asked.reason, Some(asked.key))
                .await;
            match result {
                Ok((refund, made)) => answered(&refund, made),
                Err(ServiceError::RefundRefused(why)) => {
                    log::info!("console: refund of invoice {id} refused: {why}");
                    refused(&api.invoices.fetch(id).await?, asked.amount)
                }
                Err(ServiceError::KeyReused(_)) => Flash::RefundKeyUsed,
                Err(ServiceError::Invalid(_)) => Flash::RefundInvalid,
                Err(err) => return Err(err.into()),
            }
        }
    };
    Ok(to(format!("/console/invoices/{id}?flash={}", flash.code())))
}

/// What a refund the service made (or had made under the key) says.
fn answered(refund: &Refund, made: bool) -> Flash {
    match (made, refund.status) {
        (false, _) => Flash::RefundRepeated,
        (true, RefundStatus::Succeeded) => Flash::Refunded,
        (true, RefundStatus::Pending) => Flash::RefundPending,
        (true, RefundStatus::Failed) => Flash::RefundFailed,
    }
}

/// Why a refund of `amount` (what is left when `None`) was refused, as the invoice now tells:
/// more than is left, or nothing refundable at all.
fn refused(invoice: &Invoice, amount: Option<Decimal>) -> Flash {
    let left = invoice.refundable();
    let beyond = left.to_minor() == 0 || amount.is_some_and(|a| a > left.value());
    if invoice.status == InvoiceStatus::Paid && beyond {
        Flash::RefundTooMuch
    } else {
        Flash::NotRefundable
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId, Money, RefundId, RefundOrigin};
    use chrono::Utc;

    use super::*;

    fn form(key: &str, amount: &str, reason: &str) -> RefundForm {
        RefundForm {
            csrf: String::new(),
            key: key.into(),
            amount: amount.into(),
            reason: reason.into(),
        }
    }

    fn eur(minor: i64) -> Money {
        Money::from_minor(minor, Currency::EUR).unwrap()
    }

    #[test]
    fn a_blank_amount_is_what_is_left_and_a_bad_one_is_never_sent() {
        let asked = form(" k-1 ", "", "  ").read().unwrap();
        assert_eq!((asked.amount, asked.reason), (None, None));
        assert_eq!(asked.key.as_str(), "k-1");
        let asked = form("k-1", " 12.50 ", " duplicate ").read().unwrap();
        assert_eq!(asked.amount.unwrap().to_string(), "12.50");
        assert_eq!(asked.reason.as_deref(), Some("duplicate"));
        for amount in ["five", "-1", "0", "1e3"] {
            assert_eq!(
                form("k-1", amount, "").read().err(),
                Some(Flash::RefundInvalid)
            );
        }
        assert_eq!(form("", "1", "").read().err(), Some(Flash::BadKey));
    }

    #[test]
    fn each_outcome_says_what_became_of_the_money() {
        let refund = |status| Refund {
            id: RefundId::new(1).unwrap(),
            invoice_id: InvoiceId::new(1).unwrap(),
            amount: eur(500),
            reason: None,
            status,
            origin: RefundOrigin::Api,
            provider_key: "k".into(),
            provider_ref: None,
            failure_reason: None,
            attempts: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        assert_eq!(
            answered(&refund(RefundStatus::Succeeded), true),
            Flash::Refunded
        );
        assert_eq!(
            answered(&refund(RefundStatus::Pending), true),
            Flash::RefundPending
        );
        assert_eq!(
            answered(&refund(RefundStatus::Failed), true),
            Flash::RefundFailed
        );
        assert_eq!(
            answered(&refund(RefundStatus::Succeeded), false),
            Flash::RefundRepeated,
            "pressed twice: made once"
        );
    }

    #[test]
    fn a_refusal_says_whether_too_much_was_asked() {
        let invoice = |status, refunded| Invoice {
            refunded: eur(refunded),
            ..Invoice::new(
                InvoiceId::new(1).unwrap(),
                CustomerId::new(1).unwrap(),
                eur(1_000),
                status,
            )
        };
        let ten = Some(Decimal::new(1_000, 2));
        let paid = invoice(InvoiceStatus::Paid, 500);
        assert_eq!(refused(&paid, ten), Flash::RefundTooMuch);
        assert_eq!(
            refused(&invoice(InvoiceStatus::Paid, 1_000), None),
            Flash::RefundTooMuch,
            "nothing left"
        );
        assert_eq!(
            refused(&paid, Some(Decimal::new(100, 2))),
            Flash::NotRefundable,
            "no recorded payment"
        );
        assert_eq!(
            refused(&invoice(InvoiceStatus::Pending, 0), ten),
            Flash::NotRefundable
        );
    }
}
