//! Assembling the routes into an actix-web server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::Logger;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, Route, web};
use antaeus_core::{CustomerService, InvoiceService};

use crate::routes::{customers, fallback, health, invoices};

/// Largest request body accepted.
const BODY_LIMIT: usize = 1024 * 1024;

/// The services the handlers call.
#[derive(Clone)]
pub struct ApiState {
    /// Customer lookups.
    pub customers: CustomerService,
    /// Invoice lookups.
    pub invoices: InvoiceService,
}

/// Registers every route. A resource answers 405 (with a problem body) to other methods.
pub fn configure(cfg: &mut web::ServiceConfig) {
    fn resource(path: &str, get: Route) -> actix_web::Resource {
        web::resource(path)
            .route(get)
            .default_service(web::to(|req: HttpRequest| async move {
                Err::<HttpResponse, _>(fallback::method_not_allowed(&req, "GET"))
            }))
    }
    cfg.service(resource("/rest/health", web::get().to(health::get)))
        .service(resource("/rest/v1/invoices", web::get().to(invoices::list)))
        .service(resource(
            "/rest/v1/invoices/{id}",
            web::get().to(invoices::get),
        ))
        .service(resource(
            "/rest/v1/customers",
            web::get().to(customers::list),
        ))
        .service(resource(
            "/rest/v1/customers/{id}",
            web::get().to(customers::get),
        ));
}

/// Starts serving the API on `listener`; the returned server runs until stopped.
pub fn serve(listener: TcpListener, state: ApiState) -> std::io::Result<Server> {
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(Logger::new("%r %s %b %Dms"))
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(BODY_LIMIT))
            .app_data(web::JsonConfig::default().limit(BODY_LIMIT))
            .configure(configure)
            .default_service(web::to(fallback::not_found))
    })
    .listen(listener)?
    .run();
    Ok(server)
}
