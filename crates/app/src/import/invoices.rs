//! Importing invoices: their columns, a row as an `InvoiceDraft`, and their creation (an
//! invoice of the customer with the same external id and fields is found, not copied).

use std::future::Future;

use antaeus_core::store::{CustomerRef, InvoiceDraft};
use antaeus_core::{InvoiceService, ServiceError};

use super::rejects::Problem;
use super::rows::{self, MAX_DESCRIPTION, RowReader};
use super::schema::{Column, Schema, Values};
use super::{Kind, Written};

/// The columns of an invoices file.
pub static SCHEMA: Schema = Schema {
    kind: "invoices",
    columns: &[
        Column {
            name: "externalId",
            numbers: true,
        },
        Column {
            name: "customerExternalId",
            numbers: true,
        },
        Column {
            name: "customerId",
            numbers: true,
        },
        Column {
            name: "amount",
            numbers: true,
        },
        Column {
            name: "currency",
            numbers: false,
        },
        Column {
            name: "dueAt",
            numbers: false,
        },
        Column {
            name: "description",
            numbers: false,
        },
    ],
    required: &[
        &["externalId"],
        &["customerExternalId", "customerId"],
        &["amount"],
        &["currency"],
    ],
};

/// Invoices, created through the invoice service.
pub struct Invoices(pub InvoiceService);

impl Kind for Invoices {
    type Row = InvoiceDraft;

    const SCHEMA: &'static Schema = &SCHEMA;

    fn parse(values: &Values) -> Result<InvoiceDraft, Vec<Problem>> {
        let mut row = RowReader::new(values);
        let external_id = row.required("externalId", rows::external_id);
        let customer = match (row.has("customerExternalId"), row.has("customerId")) {
            (true, false) => row
                .optional("customerExternalId", rows::external_id)
                .map(CustomerRef::External),
            (false, true) => row
                .optional("customerId", rows::customer_id)
                .map(CustomerRef::Id),
            (true, true) => {
                row.problem(
                    "customerId",
                    "give customerExternalId or customerId, not both",
                );
                None
            }
            (false, false) => {
                row.problem("customerExternalId", "is required (or customerId)");
                None
            }
        };
        let currency = row.required("currency", rows::currency);
        let amount = match currency {
            Some(currency) => row.required("amount", |raw| rows::amount(raw, currency)),
            None => None,
        };
        let due_at = row.optional("dueAt", rows::timestamp);
        let description = row.optional("description", |raw| rows::text(raw, MAX_DESCRIPTION));
        row.finish(|| {
            Some(InvoiceDraft {
                customer: customer?,
                amount: amount?,
                external_id: Some(external_id?),
                due_at,
                description,
            })
        })
    }

    fn key(row: &InvoiceDraft) -> Option<&str> {
        row.external_id.as_ref().map(|e| e.as_str())
    }

    fn write(
        &self,
        rows: Vec<InvoiceDraft>,
    ) -> impl Future<Output = Result<Vec<Written>, ServiceError>> + Send + 'static {
        let service = self.0.clone();
        async move {
            Ok(service
                .create_many(&rows)
                .await?
                .into_iter()
                .zip(&rows)
                .map(|(answer, row)| Written::from(answer, |e| refusal(row, e)))
                .collect())
        }
    }
}

/// A row storage refused, as a reject's fields and reasons.
fn refusal(row: &InvoiceDraft, error: &ServiceError) -> Vec<Problem> {
    let customer_column = match row.customer {
        CustomerRef::Id(_) => "customerId",
        CustomerRef::External(_) => "customerExternalId",
    };
    match error {
        ServiceError::UnknownCustomer(_) => {
            vec![Problem::field(customer_column, error.to_string())]
        }
        ServiceError::CurrencyMismatch { .. } => {
            vec![Problem::field("currency", error.to_string())]
        }
        ServiceError::AmountNotChargeable(_) => {
            vec![Problem::field("amount", error.to_string())]
        }
        ServiceError::InvoiceConflict { fields, .. } => fields
            .iter()
            .map(|field| {
                Problem::field(
                    *field,
                    format!("{error}: an import never changes an invoice"),
                )
            })
            .collect(),
        other => vec![Problem::row(other.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId};

    use super::*;
    use crate::import::schema::Raw;

    fn values(pairs: &[(&str, Raw)]) -> Values {
        let mut values = Values::new(&SCHEMA);
        for (name, raw) in pairs {
            values.set(SCHEMA.index(name).unwrap(), Some(raw.clone()));
        }
        values
    }

    fn text(s: &str) -> Raw {
        Raw::Text(s.into())
    }

    #[test]
    fn a_row_names_its_customer_either_way() {
        let draft = Invoices::parse(&values(&[
            ("externalId", text("inv-1")),
            ("customerId", Raw::Number("7".into())),
            ("amount", Raw::Number("12.5".into())),
            ("currency", text("GBP")),
            ("dueAt", text("2026-12-01T00:00:00Z")),
            ("description", text("December")),
        ]))
        .unwrap();
        assert_eq!(draft.customer, CustomerRef::Id(CustomerId::new(7).unwrap()));
        assert_eq!(draft.amount.to_minor(), 1250);
        assert_eq!(draft.amount.currency(), Currency::GBP);
        assert!(draft.due_at.is_some());

        let draft = Invoices::parse(&values(&[
            ("externalId", text("inv-1")),
            ("customerExternalId", text("acme-42")),
            ("amount", text("12.50")),
            ("currency", text("GBP")),
        ]))
        .unwrap();
        assert!(matches!(draft.customer, CustomerRef::External(e) if e.as_str() == "acme-42"));
        assert_eq!(draft.due_at, None, "due at creation");
    }

    #[test]
    fn a_row_without_a_customer_or_with_both_is_refused() {
        let problems = Invoices::parse(&values(&[
            ("externalId", text("inv-1")),
            ("amount", text("1")),
            ("currency", text("EUR")),
        ]))
        .unwrap_err();
        assert_eq!(problems[0].field.as_deref(), Some("customerExternalId"));
        let problems = Invoices::parse(&values(&[
            ("externalId", text("inv-1")),
            ("customerId", text("1")),
            ("customerExternalId", text("acme")),
            ("amount", text("1")),
            ("currency", text("EUR")),
        ]))
        .unwrap_err();
        assert!(problems[0].reason.contains("not both"), "{problems:?}");
    }

    #[test]
    fn storage_refusals_name_the_field_at_fault() {
        let draft = Invoices::parse(&values(&[
            ("externalId", text("inv-1")),
            ("customerExternalId", text("acme")),
            ("amount", text("1")),
            ("currency", text("EUR")),
        ]))
        .unwrap();
        let unknown = refusal(&draft, &ServiceError::UnknownCustomer("acme".into()));
        assert_eq!(unknown[0].field.as_deref(), Some("customerExternalId"));
        let mismatch = refusal(
            &draft,
            &ServiceError::CurrencyMismatch {
                invoice: Currency::EUR,
                customer: "acme".into(),
                customer_currency: Currency::SEK,
            },
        );
        assert_eq!(mismatch[0].field.as_deref(), Some("currency"));
        assert!(mismatch[0].reason.contains("billed in SEK"), "{mismatch:?}");
        let conflict = refusal(
            &draft,
            &ServiceError::InvoiceConflict {
                external_id: draft.external_id.clone(),
                id: antaeus_models::InvoiceId::new(4).unwrap(),
                fields: vec!["amount", "dueAt"],
            },
        );
        let fields: Vec<_> = conflict.iter().map(|p| p.field.as_deref()).collect();
        assert_eq!(fields, [Some("amount"), Some("dueAt")]);
    }
}
