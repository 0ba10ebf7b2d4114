//! Parsing of path and query parameters into domain values, with errors that name the parameter.

use std::collections::HashMap;
use std::str::FromStr;

use antaeus_core::service::Due;
use antaeus_models::{
    Currency, CustomerId, EventFilter, EventKind, ExternalId, InvoiceFilter, InvoiceId, PageLimit,
    PageRequest,
};

use crate::ApiError;

/// Parses a path segment such as the `{id}` of `/rest/v1/invoices/{id}`.
pub fn path_id<Id: FromStr<Err = antaeus_models::ModelError>>(
    name: &str,
    raw: &str,
) -> Result<Id, ApiError> {
    raw.parse()
        .map_err(|e| ApiError::BadRequest(format!("path parameter {name}: {e}")))
}

/// The query string as name → value; a repeated or undecodable parameter is a 400.
pub struct Query(HashMap<String, String>);

impl Query {
    /// Decodes an `application/x-www-form-urlencoded` query string.
    pub fn parse(query_string: &str) -> Result<Self, ApiError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query_string)
            .map_err(|e| ApiError::BadRequest(format!("malformed query string: {e}")))?;
        let mut map = HashMap::with_capacity(pairs.len());
        for (name, value) in pairs {
            if map.contains_key(&name) {
                return Err(ApiError::BadRequest(format!(
                    "query parameter {name} is given more than once"
                )));
            }
            map.insert(name, value);
        }
        Ok(Self(map))
    }

    /// The query, refusing any parameter not in `known` with a 400 naming it: a misspelt or
    /// unsupported filter must never answer as if there were no filter.
    pub fn only(self, known: &[&str]) -> Result<Self, ApiError> {
        let mut unknown: Vec<&String> = self
            .0
            .keys()
            .filter(|name| !known.contains(&name.as_str()))
            .collect();
        unknown.sort();
        match unknown.first() {
            None => Ok(self),
            Some(name) => Err(ApiError::BadRequest(format!(
                "unknown query parameter {name}: this listing takes {}",
                known.join(", ")
            ))),
        }
    }

    /// The parameter parsed as `T`, `None` when absent; present but invalid is a 400.
    pub fn get<T>(&self, name: &str) -> Result<Option<T>, ApiError>
    where
        T: FromStr,
        T::Err: std::fmt::Display,
    {
        self.0
            .get(name)
            .map(|raw| {
                raw.parse::<T>()
                    .map_err(|e| ApiError::BadRequest(format!("query parameter {name}: {e}")))
            })
            .transpose()
    }

    /// The `limit` and `after` parameters of a keyset-paginated listing.
    pub fn page<Id>(&self) -> Result<PageRequest<Id>, ApiError>
    where
        Id: FromStr,
        Id::Err: std::fmt::Display,
    {
        self.page_with_cursor("after")
    }

    /// The `limit` parameter and the cursor parameter named `cursor` (e.g. `before`).
    pub fn page_with_cursor<Id>(&self, cursor: &str) -> Result<PageRequest<Id>, ApiError>
    where
        Id: FromStr,
        Id::Err: std::fmt::Display,
    {
        Ok(PageRequest {
            after: self.get(cursor)?,
            limit: self.get::<PageLimit>("limit")?.unwrap_or_default(),
        })
    }

    /// The `status`, `customerId`, `externalId` and `currency` filters of the invoice
    /// listing (`customerExternalId` and `due` are read by [`Query::customer_external_id`] and
    /// [`Query::due`]).
    pub fn invoice_filter(&self) -> Result<InvoiceFilter, ApiError> {
        Ok(InvoiceFilter {
            status: self.get("status")?,
            customer_id: self.get::<CustomerId>("customerId")?,
            external_id: self.get::<ExternalId>("externalId")?,
            currency: self.get::<Currency>("currency")?,
            ..InvoiceFilter::default()
        })
    }

    /// The `customerExternalId` filter of the invoice listing.
    pub fn customer_external_id(&self) -> Result<Option<ExternalId>, ApiError> {
        self.get("customerExternalId")
    }

    /// The `due` filter of the invoice listing: `due` (a run started now would charge them)
    /// or `overdue` (unpaid and past their due date).
    pub fn due(&self) -> Result<Option<Due>, ApiError> {
        match self.0.get("due").map(String::as_str) {
            None => Ok(None),
            Some("due") => Ok(Some(Due::Now)),
            Some("overdue") => Ok(Some(Due::Overdue)),
            Some(other) => Err(ApiError::BadRequest(format!(
                "query parameter due: {other:?} is neither \"due\" nor \"overdue\""
            ))),
        }
    }

    /// The `status`, `invoiceId` and `type` filters of the event listing.
    pub fn event_filter(&self) -> Result<EventFilter, ApiError> {
        Ok(EventFilter {
            status: self.get("status")?,
            invoice_id: self.get::<InvoiceId>("invoiceId")?,
            kind: self.get::<EventKind>("type")?,
            up_to: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{EventStatus, InvoiceStatus};

    use super::*;

    #[test]
    fn parses_filters_and_pages() {
        let q = Query::parse("status=PAID&customerId=3&limit=10&after=20").unwrap();
        let f = q.invoice_filter().unwrap();
        assert_eq!(f.status, Some(InvoiceStatus::Paid));
        assert_eq!(f.customer_id.unwrap().get(), 3);
        let p = q.page::<InvoiceId>().unwrap();
        assert_eq!(p.limit.get(), 10);
        assert_eq!(p.after.unwrap().get(), 20);
    }

    #[test]
    fn a_parameter_a_listing_does_not_take_is_named() {
        let known = ["status", "limit"];
        assert!(Query::parse("status=PAID").unwrap().only(&known).is_ok());
        let err = Query::parse("status=PAID&statsu=X&zz=1")
            .unwrap()
            .only(&known)
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "unknown query parameter statsu: this listing takes status, limit"
        );
    }

    #[test]
    fn absent_parameters_take_defaults() {
        let q = Query::parse("").unwrap();
        assert_eq!(q.invoice_filter().unwrap(), InvoiceFilter::default());
        assert_eq!(q.page::<InvoiceId>().unwrap(), PageRequest::default());
    }

    #[test]
    fn event_statuses_are_lowercase() {
        let q = Query::parse("status=dead").unwrap();
        assert_eq!(q.event_filter().unwrap().status, Some(EventStatus::Dead));
        for bad in ["status=DEAD", "status=failed", "status="] {
            let err = Query::parse(bad).unwrap().event_filter().unwrap_err();
            assert!(
                err.to_string().contains("pending, delivered, dead"),
                "{err}"
            );
        }
    }

    #[test]
    fn invalid_or_repeated_parameters_name_the_parameter() {
        for (qs, needle) in [
            ("status=paid", "status"),
            ("status=", "status"),
            ("customerId=x", "customerId"),
            ("limit=0", "limit"),
            ("limit=1001", "limit"),
            ("after=-1", "after"),
            ("limit=1&limit=2", "limit"),
        ] {
            let q = Query::parse(qs);
            let err = q
                .and_then(|q| {
                    q.invoice_filter()?;
                    q.page::<InvoiceId>()
                })
                .unwrap_err();
            assert!(err.to_string().contains(needle), "{qs}: {err}");
        }
    }
}
