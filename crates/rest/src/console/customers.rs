//! `GET /console/customers` (keyset pages, search by external id) and
//! `GET /console/customers/{id}` (its fields and invoices).

use actix_web::{HttpRequest, HttpResponse, web};
use antaeus_models::{Customer, CustomerId, ExternalId, InvoiceFilter, InvoiceId, PageRequest};
use maud::html;
use serde::Deserialize;

use super::ConsoleState;
use super::access::Access;
use super::error::ConsoleError;
use super::format::or_dash;
use super::invoices::table;
use super::layout::{Chrome, Section, ok, page};
use super::paging::{PAGE_ROWS, cursor, page_limit, path_id};
use crate::ApiState;

/// The customers list's query.
#[derive(Deserialize)]
pub struct CustomersQuery {
    #[serde(default, rename = "externalId")]
    external_id: String,
    after: Option<String>,
}

/// One page of customers, or the one with the external id searched for.
pub async fn list(
    access: Access,
    req: HttpRequest,
    state: web::Data<ConsoleState>,
    api: web::Data<ApiState>,
    query: web::Query<CustomersQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let search = query.external_id.trim();
    let (customers, next) = if search.is_empty() {
        let after = cursor::<CustomerId>("after", query.after.as_deref())?;
        let page = api
            .customers
            .list(PageRequest {
                after,
                limit: page_limit(),
            })
            .await?;
        let next = (page.len() >= usize::from(PAGE_ROWS))
            .then(|| page.last().map(|c| c.id))
            .flatten();
        (page, next)
    } else {
        let found = match ExternalId::parse(search) {
            Ok(external) => api.customers.find(&external).await?,
            Err(_) => None,
        };
        (found.into_iter().collect::<Vec<Customer>>(), None)
    };
    let chrome = Chrome::new(access, &state, &req);
    let body = html! {
        section {
            form.filters method="get" action="/console/customers" role="search" {
                div {
                    label for="external-id" { "External id" }
                    input #external-id name="externalId" value=(search);
                }
                div { button #search type="submit" { "Search" } }
            }
        }
        section {
            table #customers {
                thead { tr {
                    th scope="col" { "Customer" } th scope="col" { "External id" } th scope="col" { "Name" }
                    th scope="col" { "Email" } th scope="col" { "Currency" }
                } }
                tbody {
                    @for c in &customers {
                        tr {
                            td { a href={ "/console/customers/" (c.id) } { (c.id) } }
                            td { (or_dash(c.external_id.as_ref())) }
                            td { (or_dash(c.name.as_deref())) }
                            td { (or_dash(c.email.as_deref())) }
                            td { (c.currency.as_str()) }
                        }
                    }
                    @if customers.is_empty() { tr { td colspan="5" { "No customers match." } } }
                }
            }
            @if let Some(next) = next {
                p.pager { a #next-page rel="next" href={ "/console/customers?after=" (next) } { "Next" } }
            }
        }
    };
    Ok(ok(page(
        Section::Customers,
        "Customers",
        &chrome,
        false,
        body,
    )))
}

/// The invoices page query of a customer's page.
#[derive(Deserialize)]
pub struct CustomerQuery {
    after: Option<String>,
}

/// A customer's page: its fields and its invoices (keyset pages).
pub async fn get(
    access: Access,
    req: HttpRequest,
    state: web::Data<ConsoleState>,
    api: web::Data<ApiState>,
    id: web::Path<String>,
    query: web::Query<CustomerQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let id: CustomerId = path_id(&id, "customer")?;
    let customer = api.customers.fetch(id).await?;
    let after = cursor::<InvoiceId>("after", query.after.as_deref())?;
    let invoices = api
        .invoices
        .list(
            InvoiceFilter {
                customer_id: Some(id),
                ..InvoiceFilter::default()
            },
            PageRequest {
                after,
                limit: page_limit(),
            },
        )
        .await?;
    let next = (invoices.len() >= usize::from(PAGE_ROWS))
        .then(|| invoices.last().map(|i| i.id))
        .flatten();
    let chrome = Chrome::new(access, &state, &req);
    let body = html! {
        section {
            dl #customer-fields {
                dt { "External id" } dd { (or_dash(customer.external_id.as_ref())) }
                dt { "Name" } dd { (or_dash(customer.name.as_deref())) }
                dt { "Email" } dd { (or_dash(customer.email.as_deref())) }
                dt { "Currency" } dd { (customer.currency.as_str()) }
                dt { "Provider customer" } dd { (or_dash(customer.provider.customer_ref.as_deref())) }
            }
        }
        section {
            h2 { "Invoices" }
            (table(&invoices))
            @if let Some(next) = next {
                p.pager { a #next-page rel="next" href={ "/console/customers/" (id) "?after=" (next) } { "Next" } }
            }
        }
    };
    let title = format!("Customer {id}");
    Ok(ok(page(Section::Customers, &title, &chrome, false, body)))
}
