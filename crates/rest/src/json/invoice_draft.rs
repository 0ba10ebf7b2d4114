//! The body of `POST /rest/v1/invoices`, and each item of `POST /rest/v1/invoices/batch`.

use antaeus_core::store::{CustomerRef, InvoiceDraft};
use antaeus_models::CustomerId;
use chrono::{DateTime, SubsecRound, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::object::Object;
use super::{AmountJson, text};
use crate::ApiError;

/// An invoice to create, for the customer named by `customerId` or `customerExternalId`
/// (exactly one). Unknown fields are refused, so a misspelt `dueAt` cannot make an invoice
/// due now.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvoiceDraftJson {
    /// The customer's Antaeus id.
    #[schema(example = 1)]
    customer_id: Option<i64>,
    /// The customer's external id.
    #[schema(example = "acme-42")]
    customer_external_id: Option<String>,
    /// What is owed, in the customer's currency.
    #[schema(value_type = AmountJson)]
    amount: Object<AmountJson>,
    /// The SaaS's own id for the invoice, unique per customer: 1 to 255 visible ASCII
    /// characters. Posting it again with the same fields answers the existing invoice (200);
    /// with other fields, 409.
    #[schema(example = "inv-2026-12-acme-42")]
    external_id: Option<String>,
    /// When it falls due (RFC 3339, kept to the microsecond); the first run after it charges
    /// it. Absent: due now.
    #[schema(value_type = Option<String>, format = DateTime, example = "2026-12-01T00:00:00Z")]
    #[serde(default, deserialize_with = "due_at")]
    due_at: Option<DateTime<Utc>>,
    /// What it is for, 1 to 1,000 bytes.
    #[schema(example = "December subscription")]
    description: Option<String>,
}

/// Reads `dueAt` (RFC 3339, or `null`), naming the field when it is not a time.
fn due_at<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(&text)
        .map(|t| Some(t.to_utc()))
        .map_err(|_| {
            serde::de::Error::custom(format!(
                "dueAt: {text:?} is not an RFC 3339 time such as 2026-12-01T00:00:00Z"
            ))
        })
}

impl InvoiceDraftJson {
    /// The invoice to create, or a 400 naming the field that is wrong.
    pub fn into_draft(self) -> Result<InvoiceDraft, ApiError> {
        let customer = match (self.customer_id, self.customer_external_id) {
            (Some(id), None) => CustomerRef::Id(
                CustomerId::new(id)
                    .map_err(|e| ApiError::BadRequest(format!("customerId: {e}")))?,
            ),
            (None, Some(external)) => {
                CustomerRef::External(text::external_id("customerExternalId", external)?)
            }
            (Some(_), Some(_)) => {
                return Err(ApiError::BadRequest(
                    "give customerId or customerExternalId, not both".into(),
                ));
            }
            (None, None) => {
                return Err(ApiError::BadRequest(
                    "the customer is missing: give customerId or customerExternalId".into(),
                ));
            }
        };
        Ok(InvoiceDraft {
            customer,
            amount: self.amount.0.to_money()?,
            external_id: self
                .external_id
                .map(|e| text::external_id("externalId", e))
                .transpose()?,
            // Storage keeps microseconds: the same body posted again must find the same
            // invoice, not a conflict over nanoseconds.
            due_at: self.due_at.map(|t| t.trunc_subsecs(6)),
            description: self
                .description
                .map(|d| text::description("description", d))
                .transpose()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::Currency;

    use super::*;

    fn draft(json: &str) -> Result<InvoiceDraft, String> {
        serde_json::from_str::<InvoiceDraftJson>(json)
            .map_err(|e| e.to_string())?
            .into_draft()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn a_draft_names_its_customer_either_way() {
        let by_id =
            draft(r#"{"customerId":3,"amount":{"value":"12.50","currency":"EUR"}}"#).unwrap();
        assert_eq!(by_id.customer, CustomerRef::Id(CustomerId::new(3).unwrap()));
        assert_eq!(by_id.amount.to_minor(), 1_250);
        assert_eq!((by_id.due_at, by_id.external_id), (None, None));
        let full = draft(
            r#"{"customerExternalId":"acme-42","amount":{"value":123.45,"currency":"SEK"},
                "externalId":"inv-1","dueAt":"2026-12-01T01:00:00.123456789+01:00",
                "description":"December"}"#,
        )
        .unwrap();
        assert!(matches!(&full.customer, CustomerRef::External(e) if e.as_str() == "acme-42"));
        assert_eq!(full.amount.currency(), Currency::SEK);
        assert_eq!(
            full.due_at.unwrap().to_rfc3339(),
            "2026-12-01T00:00:00.123456+00:00",
            "in UTC, to the microsecond"
        );
    }

    #[test]
    fn malformed_drafts_are_refused_naming_the_field() {
        let amount = r#""amount":{"value":"1.00","currency":"EUR"}"#;
        for (json, needle) in [
            (format!("{{{amount}}}"), "customerId or customerExternalId"),
            (
                format!(r#"{{"customerId":1,"customerExternalId":"a",{amount}}}"#),
                "not both",
            ),
            (format!(r#"{{"customerId":0,{amount}}}"#), "customerId"),
            (format!(r#"{{"customerId":"1",{amount}}}"#), "i64"),
            (format!(r#"{{"customerId":1.5,{amount}}}"#), "i64"),
            (
                format!(r#"{{"customerExternalId":"a b",{amount}}}"#),
                "customerExternalId",
            ),
            (r#"{"customerId":1}"#.to_owned(), "amount"),
            (
                r#"{"customerId":1,"amount":{"value":"1.001","currency":"EUR"}}"#.to_owned(),
                "amount.value",
            ),
            (
                format!(r#"{{"customerId":1,{amount},"dueAt":"2026-12-01"}}"#),
                r#"dueAt: "2026-12-01" is not an RFC 3339 time"#,
            ),
            (
                format!(r#"{{"customerId":1,{amount},"dueAt":"tomorrow"}}"#),
                r#"dueAt: "tomorrow" is not an RFC 3339 time"#,
            ),
            (
                format!(r#"{{"customerId":1,{amount},"dueAt":17}}"#),
                "invalid type",
            ),
            (
                format!(r#"{{"customerId":1,{amount},"externalId":""}}"#),
                "externalId",
            ),
            (
                format!(r#"{{"customerId":1,{amount},"description":""}}"#),
                "description",
            ),
            (
                format!(r#"{{"customerId":1,{amount},"due_at":"2026-12-01T00:00:00Z"}}"#),
                "unknown field `due_at`",
            ),
        ] {
            let err = draft(&json).unwrap_err();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}
