//! `POST /console/invoices/{id}/retry` and `…/void`: the API's retry and void, from a form
//! with the session's CSRF token, answered by a redirect to the invoice's page.

use actix_web::{HttpResponse, web};
use antaeus_core::ServiceError;
use antaeus_models::Invoice;

use super::ConsoleState;
use super::access::Access;
use super::error::ConsoleError;
use super::flash::Flash;
use super::invoice_page::invoice_id;
use super::sign_in::{CsrfForm, to};
use crate::ApiState;

/// Makes the invoice due now.
pub async fn retry(
    access: Access,
    state: web::Data<ConsoleState>,
    api: web::Data<ApiState>,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    access.authorize(&form.csrf, &state)?;
    let id = invoice_id(&id)?;
    answer(id, api.invoices.retry(id).await, Flash::Retried)
}

/// Voids the invoice.
pub async fn void(
    access: Access,
    state: web::Data<ConsoleState>,
    api: web::Data<ApiState>,
    id: web::Path<String>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    access.authorize(&form.csrf, &state)?;
    let id = invoice_id(&id)?;
    answer(id, api.invoices.void(id).await, Flash::Voided)
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
        Err(err) => return Err(err.into()),
    };
    Ok(to(format!("/console/invoices/{id}?flash={}", flash.code())))
}
