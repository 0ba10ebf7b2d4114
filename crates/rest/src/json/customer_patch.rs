//! The body of `PATCH /rest/v1/customers/{id}`: a JSON Merge Patch (RFC 7396).

use antaeus_core::store::CustomerChanges;
use antaeus_models::Currency;
use serde::Deserialize;
use utoipa::ToSchema;

use super::object::Object;
use super::patch_field::present;
use super::text;
use crate::ApiError;

/// Changes to a customer: an absent field is left as it is, `null` clears it (not the
/// currency), a value replaces it. `{}` changes nothing. Unknown fields are refused.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerPatchJson {
    /// A new currency, only while the customer has no invoice (else 409); never `null`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "EUR")]
    currency: Option<Option<Currency>>,
    /// A new name, or `null` to clear it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "Acme Corp")]
    name: Option<Option<String>>,
    /// A new email address, or `null` to clear it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "billing@acme.test")]
    email: Option<Option<String>>,
    /// Changes to the provider references; `null` clears both.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<ProviderPatchJson>)]
    provider: Option<Option<Object<ProviderPatchJson>>>,
}

/// Changes to the provider references: absent leaves, `null` clears, a value replaces.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderPatchJson {
    /// The provider's id for the customer.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "cus_NffrFeUfNV2Hib")]
    customer_ref: Option<Option<String>>,
    /// The payment method to charge.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "pm_1MqLiJLkdIwHu7ixUEgbFdYF")]
    payment_method_ref: Option<Option<String>>,
}

impl CustomerPatchJson {
    /// The changes asked for, or a 400 naming the field that is wrong.
    pub fn into_changes(self) -> Result<CustomerChanges, ApiError> {
        let currency = match self.currency {
            Some(None) => {
                return Err(ApiError::BadRequest(
                    "currency: a customer always has a currency; it cannot be null".into(),
                ));
            }
            Some(Some(c)) => Some(c),
            None => None,
        };
        let (customer_ref, payment_method_ref) = match self.provider {
            None => (None, None),
            Some(None) => (Some(None), Some(None)),
            Some(Some(Object(p))) => (p.customer_ref, p.payment_method_ref),
        };
        Ok(CustomerChanges {
            name: change(self.name, |n| text::name("name", n))?,
            email: change(self.email, |e| text::email("email", e))?,
            provider_customer_ref: change(customer_ref, |r| {
                text::reference("provider.customerRef", r)
            })?,
            provider_payment_method_ref: change(payment_method_ref, |r| {
                text::reference("provider.paymentMethodRef", r)
            })?,
            currency,
        })
    }
}

/// Checks the new value of a change, if it sets one.
fn change(
    field: Option<Option<String>>,
    check: impl FnOnce(String) -> Result<String, ApiError>,
) -> Result<Option<Option<String>>, ApiError> {
    field.map(|value| value.map(check).transpose()).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(json: &str) -> Result<CustomerChanges, String> {
        serde_json::from_str::<CustomerPatchJson>(json)
            .map_err(|e| e.to_string())?
            .into_changes()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn absent_leaves_null_clears_and_a_value_sets() {
        assert!(changes("{}").unwrap().is_empty());
        let c = changes(r#"{"name":"Acme","email":null,"provider":{"paymentMethodRef":"pm_2"}}"#)
            .unwrap();
        assert_eq!(c.name, Some(Some("Acme".into())));
        assert_eq!(c.email, Some(None));
        assert_eq!(c.provider_customer_ref, None);
        assert_eq!(c.provider_payment_method_ref, Some(Some("pm_2".into())));
        assert_eq!(c.currency, None);
        let cleared = changes(r#"{"provider":null,"currency":"SEK"}"#).unwrap();
        assert_eq!(
            (
                cleared.provider_customer_ref,
                cleared.provider_payment_method_ref
            ),
            (Some(None), Some(None))
        );
        assert_eq!(cleared.currency, Some(Currency::SEK));
    }

    #[test]
    fn malformed_patches_are_refused_naming_the_field() {
        for (json, needle) in [
            (r#"{"currency":null}"#, "currency"),
            (r#"{"currency":"eur"}"#, "currency"),
            (r#"{"name":""}"#, "name"),
            (r#"{"name":7}"#, "string"),
            (r#"{"email":"x"}"#, "email"),
            (r#"{"provider":{"customerRef":""}}"#, "provider.customerRef"),
            (r#"{"provider":"cus_1"}"#, "expected a JSON object"),
            (r#"{"provider":[]}"#, "expected a JSON object"),
            (r#"{"id":5}"#, "id"),
            (r#"{"externalId":"new"}"#, "externalId"),
        ] {
            let err = changes(json).unwrap_err();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}
