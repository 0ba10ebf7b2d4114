//! `GET /openapi.json`: the OpenAPI 3.1 description, generated from the handlers.

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{billing_runs, customers, events, health, invoices, metrics, webhooks};
use crate::Problem;
use crate::json::{
    AmountJson, AttemptJson, BatchItemJson, CallsJson, CustomerJson, CustomerPatchJson,
    DisputeJson, EventJson, InvoiceDraftJson, InvoiceJson, MoneyJson, NewCustomerJson,
    ProviderJson, ProviderPatchJson, ProviderRefsJson, RefundDraftJson, RefundJson, RunCountsJson,
    RunJson,
};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Antaeus",
        description = "Self-hostable billing: customers, invoices, billing runs, charge attempts and billing events. Create and update bodies refuse unknown fields; a value that is malformed on its own is 400, one that conflicts with stored data 409 or 422."
    ),
    paths(
        health::get,
        health::ready,
        invoices::get::list,
        invoices::post::create,
        invoices::batch::create,
        invoices::get::one,
        invoices::attempts::list,
        invoices::retry::post,
        invoices::void::void,
        invoices::refunds::post,
        invoices::refunds::list,
        customers::get::list,
        customers::post::create,
        customers::get::one,
        customers::patch::update,
        billing_runs::post,
        billing_runs::list,
        billing_runs::get,
        events::list,
        events::redeliver,
        metrics::get,
        webhooks::stripe,
        get,
    ),
    components(schemas(
        Problem, InvoiceJson, DisputeJson, RefundJson, RefundDraftJson, MoneyJson, CustomerJson, ProviderJson, AttemptJson, RunJson,
        RunCountsJson, CallsJson, EventJson, NewCustomerJson, ProviderRefsJson, CustomerPatchJson,
        ProviderPatchJson, InvoiceDraftJson, AmountJson, BatchItemJson, webhooks::ReceivedJson
    )),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

/// Declares the two ways to present the API token.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
    }
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", body = Object))
)]
pub async fn get() -> HttpResponse {
    match ApiDoc::openapi().to_json() {
        Ok(json) => HttpResponse::Ok()
            .content_type("application/json")
            .body(json),
        Err(err) => actix_web::ResponseError::error_response(&crate::ApiError::Internal(format!(
            "cannot render the OpenAPI document: {err}"
        ))),
    }
}
