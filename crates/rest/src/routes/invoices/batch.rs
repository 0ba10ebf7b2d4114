//! `POST /rest/v1/invoices/batch`: create up to 1,000 invoices in one request, each answered
//! in its place.

use actix_web::{HttpResponse, web};
use antaeus_core::store::InvoiceDraft;
use serde_json::value::RawValue;

use crate::auth::WriteAccess;
use crate::json::{BatchItemJson, InvoiceDraftJson, InvoiceJson};
use crate::routes::{created, json_body};
use crate::{ApiError, ApiState, Problem};

/// The most invoices one batch holds.
pub const MAX_BATCH: usize = 1_000;

/// The largest batch body: room for [`MAX_BATCH`] invoices with long descriptions.
pub const BATCH_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Creates invoices as `POST /rest/v1/invoices` would, one by one, in a single transaction:
/// one answer per item, in order. A bad item is answered with its problem and never fails
/// the others. Items with an `externalId` are safe to send again (there is no
/// `Idempotency-Key` for a batch): a repeated item answers 200 with the invoice it made.
#[utoipa::path(
    post,
    path = "/rest/v1/invoices/batch",
    tag = "invoices",
    request_body(
        description = "A JSON array of at most 1,000 invoices, each as `POST /rest/v1/invoices` takes it (at most 4 MiB)",
        content = Vec<InvoiceDraftJson>, content_type = "application/json"
    ),
    security(("bearer" = []), ("api_key" = [])),
    responses(
        (status = 200, description = "One answer per item, in order: `{\"status\":201,\"invoice\":{…}}`, `{\"status\":200,\"invoice\":{…}}` (it existed), or `{\"status\":400|409|422,\"problem\":{…}}`", body = [BatchItemJson]),
        (status = 400, description = "The body is not a JSON array", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "No API token configured", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "More than 1,000 items, or a body over 4 MiB: nothing was created", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create(
    _: WriteAccess,
    payload: web::Payload,
    state: web::Data<ApiState>,
) -> Result<HttpResponse, ApiError> {
    let body = json_body::read_up_to(payload, BATCH_BODY_LIMIT).await?;
    let items: Vec<Box<RawValue>> = json_body::parse(&body, "the body", "array of invoices")?;
    if items.len() > MAX_BATCH {
        return Err(ApiError::TooLarge(format!(
            "a batch holds at most {MAX_BATCH} invoices; this one has {}: split it",
            items.len()
        )));
    }
    let parsed: Vec<Result<InvoiceDraft, ApiError>> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            json_body::object_in::<InvoiceDraftJson>(
                item.get().as_bytes(),
                &format!("item {i}"),
                "invoice",
            )?
            .into_draft()
            .map_err(|e| ApiError::BadRequest(format!("item {i}: {e}")))
        })
        .collect();
    let drafts: Vec<InvoiceDraft> = parsed.iter().flatten().cloned().collect();
    let mut outcomes = if drafts.is_empty() {
        Vec::new()
    } else {
        state.invoices.create_many(&drafts).await?
    }
    .into_iter();
    let mut answers = Vec::with_capacity(parsed.len());
    for item in parsed {
        let answer = match item.map(|_| outcomes.next()) {
            Err(refused) => BatchItemJson::problem(refused.to_problem()),
            Ok(Some(Ok(made))) => BatchItemJson::invoice(created::status(&made).as_u16(), {
                InvoiceJson::from(&made.into_inner())
            }),
            Ok(Some(Err(refused))) => BatchItemJson::problem(ApiError::from(refused).to_problem()),
            Ok(None) => {
                return Err(ApiError::Internal(
                    "the service answered fewer invoices than it was given".into(),
                ));
            }
        };
        answers.push(answer);
    }
    Ok(HttpResponse::Ok().json(answers))
}
