//! `POST /console/invoices/{id}/retry` and `…/void`: the API's retry and void, from a form
//! with the session's CSRF token, answered by a redirect to the invoice's page.

use actix_web::{HttpResponse, web};
use antaeus_core::ServiceError;
use antaeus_models::Invoice;

use super::ConsoleState;
use super::access::Access;
use super::error::ConsoleError;
use super::flash::Flash;
use super::paging::path_id;
use super::sign_in::{CsrfForm, to};
use crate::ApiState;

/// `POST /console/invoices/{id}/retry` makes the invoice due now; `…/void` voids it.
pub async fn post(
    access: Access,
    state: web::Data<ConsoleState>,
    api: web::Data<ApiState>,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, action) = path.into_inner();
    if !matches!(action.as_str(), "retry" | "void") {
        return Err(ConsoleError::NotFound(format!(
            "invoices have no action {action:?}"
        )));
    }
    access.authorize(&form.csrf, &state)?;
    let id = path_id(&id, "invoice")?;
    let (result, done) = if action == "retry" {
        (api.invoices.retry(id).await, Flash::Retried)
    } else {
        (api.invoices.void(id).await, Flash::Voided)
    };
    answer(id, result, done)
}

fn answer(
    id: antaeus_models::InvoiceId,
    result: Result<Invoice, ServiceError>,
    done: Flash,
) -> Result<HttpResponse, ConsoleError> {
    let flash = match result {
        Ok(_) => done,
        Err(ServiceError::InvoiceCharging(_)) => Flash::Charging,
        Err(ServiceError::InvoicePaid(_)) => Flash::Paid,
        Err(ServiceError::InvoiceVoid(_)) => Flash::Void,
        Err(ServiceError::OutcomeUnknown { .. }) => Flash::OutcomeUnknown,
        Err(ServiceError::PaymentMayComplete { .. }) => Flash::PaymentMayComplete,
        Err(err) => return Err(err.into()),
    };
    Ok(to(format!("/console/invoices/{id}?flash={}", flash.code())))
}
