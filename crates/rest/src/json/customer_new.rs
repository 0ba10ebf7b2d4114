//! The body of `POST /rest/v1/customers`.

use antaeus_core::store::NewCustomer;
use antaeus_models::{Currency, ProviderRefs};
use serde::Deserialize;
use utoipa::ToSchema;

use super::object::Object;
use super::text;
use crate::ApiError;

/// A customer to create; only `currency` is required. Unknown fields are refused.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCustomerJson {
    /// The currency every invoice of the customer is in: EUR, USD, DKK, SEK or GBP.
    #[schema(value_type = String, example = "EUR")]
    currency: Currency,
    /// The SaaS's own id for the customer, unique: 1 to 255 visible ASCII characters. Posting
    /// it again with the same fields answers the existing customer (200); with other fields,
    /// 409.
    #[schema(example = "acme-42")]
    external_id: Option<String>,
    /// A name to show operators, 1 to 255 characters.
    #[schema(example = "Acme Corp")]
    name: Option<String>,
    /// Where the customer is reached.
    #[schema(example = "billing@acme.test")]
    email: Option<String>,
    /// What the payment provider needs to charge the customer.
    #[schema(value_type = Option<ProviderRefsJson>)]
    provider: Option<Object<ProviderRefsJson>>,
}

/// The payment provider's references, each 1 to 255 visible ASCII characters.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderRefsJson {
    /// The provider's id for the customer.
    #[schema(example = "cus_NffrFeUfNV2Hib")]
    customer_ref: Option<String>,
    /// The payment method to charge; the provider's default for the customer when absent.
    #[schema(example = "pm_1MqLiJLkdIwHu7ixUEgbFdYF")]
    payment_method_ref: Option<String>,
}

impl NewCustomerJson {
    /// The customer to create, or a 400 naming the field that is wrong.
    pub fn into_new_customer(self) -> Result<NewCustomer, ApiError> {
        let provider = self.provider.map(|p| p.0).unwrap_or_default();
        Ok(NewCustomer {
            currency: self.currency,
            external_id: self
                .external_id
                .map(|e| text::external_id("externalId", e))
                .transpose()?,
            name: self.name.map(|n| text::name("name", n)).transpose()?,
            email: self.email.map(|e| text::email("email", e)).transpose()?,
            provider: ProviderRefs {
                customer_ref: provider
                    .customer_ref
                    .map(|r| text::reference("provider.customerRef", r))
                    .transpose()?,
                payment_method_ref: provider
                    .payment_method_ref
                    .map(|r| text::reference("provider.paymentMethodRef", r))
                    .transpose()?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<NewCustomer, String> {
        serde_json::from_str::<NewCustomerJson>(json)
            .map_err(|e| e.to_string())?
            .into_new_customer()
            .map_err(|e| e.to_string())
    }

    #[test]
    fn only_the_currency_is_required() {
        let minimal = parse(r#"{"currency":"DKK"}"#).unwrap();
        assert_eq!(minimal.currency, Currency::DKK);
        assert_eq!(minimal.external_id, None);
        assert_eq!(minimal.provider, ProviderRefs::default());
        let full = parse(
            r#"{"currency":"EUR","externalId":"acme-42","name":"Acme","email":"a@acme.test",
                "provider":{"customerRef":"cus_1","paymentMethodRef":"pm_1"}}"#,
        )
        .unwrap();
        assert_eq!(full.external_id.unwrap().as_str(), "acme-42");
        assert_eq!(full.provider.payment_method_ref.as_deref(), Some("pm_1"));
        let nulls = parse(r#"{"currency":"EUR","name":null,"provider":null}"#).unwrap();
        assert_eq!(
            (nulls.name, nulls.provider),
            (None, ProviderRefs::default())
        );
    }

    #[test]
    fn malformed_customers_are_refused_naming_the_field() {
        for (json, needle) in [
            (r#"{}"#, "currency"),
            (r#"{"currency":"JPY"}"#, "currency"),
            (r#"{"currency":"EUR","externalId":""}"#, "externalId"),
            (r#"{"currency":"EUR","externalId":7}"#, "string"),
            (r#"{"currency":"EUR","name":""}"#, "name"),
            (r#"{"currency":"EUR","email":"nope"}"#, "email"),
            (
                r#"{"currency":"EUR","provider":{"customerRef":"a b"}}"#,
                "provider.customerRef",
            ),
            (
                r#"{"currency":"EUR","provider":{"cardRef":"x"}}"#,
                "cardRef",
            ),
            (r#"{"currency":"EUR","colour":"blue"}"#, "colour"),
            (r#"{"currency":"EUR","external_id":"x"}"#, "external_id"),
        ] {
            let err = parse(json).unwrap_err();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}
