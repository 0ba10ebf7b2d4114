//! Importing customers: their columns, a row as a `CustomerUpsert`, and the upsert by external
//! id (a known customer takes the optional columns the row has, an empty one clearing its
//! value, and keeps the others; never another currency).

use std::future::Future;

use antaeus_core::store::{CustomerUpsert, Upserted};
use antaeus_core::{CustomerService, ServiceError};

use super::rejects::Problem;
use super::rows::{self, MAX_TEXT, RowReader};
use super::schema::{Column, Schema, Values};
use super::{Kind, Written};

/// The columns of a customers file.
pub static SCHEMA: Schema = Schema {
    kind: "customers",
    columns: &[
        Column {
            name: "externalId",
            numbers: true,
        },
        Column {
            name: "currency",
            numbers: false,
        },
        Column {
            name: "name",
            numbers: false,
        },
        Column {
            name: "email",
            numbers: false,
        },
        Column {
            name: "customerRef",
            numbers: false,
        },
        Column {
            name: "paymentMethodRef",
            numbers: false,
        },
    ],
    required: &[&["externalId"], &["currency"]],
};

/// Customers, upserted through the customer service.
pub struct Customers(pub CustomerService);

impl Kind for Customers {
    type Row = CustomerUpsert;

    const SCHEMA: &'static Schema = &SCHEMA;

    fn parse(values: &Values) -> Result<CustomerUpsert, Vec<Problem>> {
        let mut row = RowReader::new(values);
        let external_id = row.required("externalId", rows::external_id);
        let currency = row.required("currency", rows::currency);
        let name = row.given("name", |raw| rows::text(raw, MAX_TEXT));
        let email = row.given("email", rows::email);
        let customer_ref = row.given("customerRef", rows::reference);
        let payment_method_ref = row.given("paymentMethodRef", rows::reference);
        row.finish(|| {
            Some(CustomerUpsert {
                currency: currency?,
                external_id: Some(external_id?),
                name,
                email,
                provider_customer_ref: customer_ref,
                provider_payment_method_ref: payment_method_ref,
            })
        })
    }

    fn key(row: &CustomerUpsert) -> Option<&str> {
        row.external_id.as_ref().map(|e| e.as_str())
    }

    fn write(
        &self,
        rows: Vec<CustomerUpsert>,
    ) -> impl Future<Output = Result<Vec<Written>, ServiceError>> + Send + 'static {
        let service = self.0.clone();
        async move {
            Ok(service
                .upsert(&rows)
                .await?
                .into_iter()
                .map(|answer| match answer {
                    Ok(Upserted::Created(_)) => Written::Created,
                    Ok(Upserted::Updated(_)) => Written::Updated,
                    Ok(Upserted::Unchanged(_)) => Written::Existing,
                    Err(refused) => Written::Refused(refusal(&refused)),
                })
                .collect())
        }
    }
}

/// A row storage refused, as a reject's fields and reasons.
fn refusal(error: &ServiceError) -> Vec<Problem> {
    match error {
        ServiceError::CustomerConflict { fields, .. } => fields
            .iter()
            .map(|field| {
                Problem::field(
                    *field,
                    format!("{error}: an import never changes a customer's currency"),
                )
            })
            .collect(),
        other => vec![Problem::row(other.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId, ExternalId};

    use super::*;
    use crate::import::schema::Raw;

    fn values(pairs: &[(&str, &str)]) -> Values {
        let mut values = Values::new(&SCHEMA);
        for (name, text) in pairs {
            values.set(SCHEMA.index(name).unwrap(), Some(Raw::Text((*text).into())));
        }
        values
    }

    #[test]
    fn a_full_row_is_a_new_customer() {
        let row = Customers::parse(&values(&[
            ("externalId", "acme-42"),
            ("currency", "DKK"),
            ("name", "Acme ApS"),
            ("email", "billing@acme.example"),
            ("customerRef", "cus_1"),
            ("paymentMethodRef", "pm_1"),
        ]))
        .unwrap();
        assert_eq!(row.currency, Currency::DKK);
        assert_eq!(row.external_id.unwrap().as_str(), "acme-42");
        assert_eq!(row.name, Some(Some("Acme ApS".into())));
        assert_eq!(row.provider_payment_method_ref, Some(Some("pm_1".into())));
    }

    #[test]
    fn a_column_the_row_lacks_is_not_given_and_an_empty_one_is_given_empty() {
        let mut values = values(&[("externalId", "acme-42"), ("currency", "DKK")]);
        values.set(SCHEMA.index("customerRef").unwrap(), None);
        let row = Customers::parse(&values).unwrap();
        assert_eq!(
            row.provider_customer_ref,
            Some(None),
            "given empty: cleared"
        );
        assert_eq!(row.name, None, "not given: left as it is");
        assert_eq!(row.provider_payment_method_ref, None);
    }

    #[test]
    fn every_bad_field_of_a_row_is_named() {
        let problems =
            Customers::parse(&values(&[("currency", "eur"), ("email", "nobody")])).unwrap_err();
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_deref()).collect();
        assert_eq!(
            fields,
            [Some("externalId"), Some("currency"), Some("email")]
        );
        assert_eq!(problems[0].reason, "is required");
    }

    #[test]
    fn a_currency_conflict_is_a_reject_of_the_currency() {
        let problems = refusal(&ServiceError::CustomerConflict {
            external_id: Some(ExternalId::parse("acme-42").unwrap()),
            id: CustomerId::new(3).unwrap(),
            fields: vec!["currency"],
        });
        let [problem] = problems.as_slice() else {
            panic!("{problems:?}");
        };
        assert_eq!(problem.field.as_deref(), Some("currency"));
        assert!(
            problem.reason.contains("acme-42 exists (id 3)"),
            "{problem:?}"
        );
    }
}
