//! Assembling the routes into an actix-web server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, Service, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers, Logger};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use antaeus_core::service::{PaymentEventService, RefundService};
use antaeus_core::{CustomerService, EventService, InvoiceService, RunService};

use crate::auth::ApiTokens;
use crate::console::ConsoleState;
use crate::ops::{MetricsSource, Readiness};
use crate::problem::PROBLEM_JSON;
use crate::routes::{
    billing_runs, customers, events, fallback, health, invoices, metrics, openapi, webhooks,
};
use crate::{ApiError, Problem};

/// Largest request body accepted.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What the handlers use.
#[derive(Clone)]
pub struct ApiState {
    /// Customer lookups, creation and changes.
    pub customers: CustomerService,
    /// Invoice lookups, creation, attempts, retries and voids.
    pub invoices: InvoiceService,
    /// Billing runs: triggering and reporting.
    pub runs: RunService,
    /// Billing events: listing and redelivery.
    pub events: EventService,
    /// The payment provider's events (webhooks) and what they change.
    pub payments: PaymentEventService,
    /// Refunds of paid invoices.
    pub refunds: RefundService,
    /// The tokens guarding the API.
    pub tokens: ApiTokens,
    /// Whether the service can serve.
    pub readiness: Arc<dyn Readiness>,
    /// The metrics exposition.
    pub metrics: Arc<dyn MetricsSource>,
}

/// `GET` → `"GET"`, `GET, POST` → `"GET, POST"`: the `Allow` header of a resource.
macro_rules! allow {
    ($method:ident) => { stringify!($method) };
    ($method:ident, $($rest:ident),+) => { concat!(stringify!($method), ", ", allow!($($rest),+)) };
}

/// Declares every route once: [`ROUTES`] (for the OpenAPI check) and [`configure`] come from the
/// same table, so they cannot disagree.
macro_rules! routes {
    ($($path:literal => { $($method:ident => $handler:path),+ $(,)? }),+ $(,)?) => {
        /// Every path the server serves, with its methods.
        pub const ROUTES: &[(&str, &[&str])] = &[$(($path, &[$(stringify!($method)),+])),+];

        /// Registers every route. A resource answers 405 (with a problem body and `Allow`) to
        /// other methods.
        pub fn configure(cfg: &mut web::ServiceConfig) {
            $(
                cfg.service(
                    web::resource($path)
                        $(.route(web::method(Method::$method).to($handler)))+
                        .default_service(web::to(|req: HttpRequest| async move {
                            Err::<HttpResponse, ApiError>(fallback::method_not_allowed(&req, allow!($($method),+)))
                        })),
                );
            )+
        }
    };
}

routes! {
    "/rest/health" => { GET => health::get },
    "/rest/health/ready" => { GET => health::ready },
    "/rest/v1/invoices" => { GET => invoices::get::list, POST => invoices::post::create },
    // Before `{id}`, which would take `batch` for a malformed id.
    "/rest/v1/invoices/batch" => { POST => invoices::batch::create },
    "/rest/v1/invoices/{id}" => { GET => invoices::get::one },
    "/rest/v1/invoices/{id}/attempts" => { GET => invoices::attempts::list },
    "/rest/v1/invoices/{id}/retry" => { POST => invoices::retry::post },
    "/rest/v1/invoices/{id}/void" => { POST => invoices::void::void },
    "/rest/v1/invoices/{id}/refunds" => { GET => invoices::refunds::list, POST => invoices::refunds::post },
    "/rest/v1/customers" => { GET => customers::get::list, POST => customers::post::create },
    "/rest/v1/customers/{id}" => { GET => customers::get::one, PATCH => customers::patch::update },
    "/rest/v1/billing/runs" => { GET => billing_runs::list, POST => billing_runs::post },
    "/rest/v1/billing/runs/{id}" => { GET => billing_runs::get },
    "/rest/v1/events" => { GET => events::list },
    "/rest/v1/events/{id}/redeliver" => { POST => events::redeliver },
    "/webhooks/stripe" => { POST => webhooks::stripe },
    "/metrics" => { GET => metrics::get },
    "/openapi.json" => { GET => openapi::get },
}

/// Starts serving the API and the console on `listener`; the returned server runs until
/// stopped.
pub fn serve(
    listener: TcpListener,
    state: ApiState,
    console: ConsoleState,
) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let console = web::Data::new(console);
    // One for the whole server, so every worker counts the same failed sign-ins.
    let throttle = web::Data::new(crate::console::SignInThrottle::default());
    let server = HttpServer::new(move || {
        App::new()
            .wrap(ErrorHandlers::new().default_handler(as_problem))
            .wrap_fn(|req, srv| {
                let method = req.method().to_string();
                let response = srv.call(req);
                async move {
                    let response = response.await?;
                    count_request(&method, &response);
                    Ok(response)
                }
            })
            .wrap(Logger::new("%r %s %b %Dms"))
            .app_data(state.clone())
            .app_data(console.clone())
            .app_data(throttle.clone())
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .app_data(web::JsonConfig::default().limit(BODY_LIMIT))
            .configure(configure)
            .configure(crate::console::configure)
            .default_service(web::to(fallback::not_found))
    })
    .listen(listener)?
    .run();
    Ok(server)
}

/// Counts the request by method, route pattern (not the raw path) and status.
fn count_request<B>(method: &str, response: &ServiceResponse<B>) {
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    ::metrics::counter!(
        "antaeus_http_requests_total",
        "method" => method.to_owned(),
        "route" => route,
        "status" => response.status().as_u16().to_string()
    )
    .increment(1);
}

/// Gives every error response an RFC 9457 body, including those actix-web answers itself
/// (a body over the limit, a malformed request line).
fn as_problem<B>(response: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    // Problems pass as they are, and so do the console's HTML error pages.
    let is_answered = response.headers().get(CONTENT_TYPE).is_some_and(|v| {
        v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()) || v.as_bytes().starts_with(b"text/html")
    });
    if is_answered {
        return Ok(ErrorHandlerResponse::Response(
            response.map_into_left_body(),
        ));
    }
    let status = response.status();
    let detail = match status.as_u16() {
        413 => format!("the request body is larger than {BODY_LIMIT} bytes"),
        _ => format!(
            "the request could not be processed ({})",
            status.canonical_reason().unwrap_or("error")
        ),
    };
    let (request, _) = response.into_parts();
    let problem = Problem::new(status, detail).into_response();
    Ok(ErrorHandlerResponse::Response(
        ServiceResponse::new(request, problem).map_into_right_body(),
    ))
}
