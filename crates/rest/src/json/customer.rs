use antaeus_models::{Currency, Customer, ProviderRefs};
use serde::Serialize;
use utoipa::ToSchema;

/// `{"id":1,"currency":"EUR","externalId":"acme-42","name":"Acme","email":"…","provider":{…}}`:
/// the original fields first, then what invoicing adds.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerJson {
    id: i64,
    #[schema(value_type = String, example = "EUR")]
    currency: Currency,
    /// The SaaS's own id for the customer (unique).
    #[schema(example = "acme-42")]
    external_id: Option<String>,
    /// A name to show operators.
    name: Option<String>,
    /// Where the customer is reached.
    email: Option<String>,
    /// What the payment provider needs to charge the customer.
    provider: ProviderJson,
}

/// The payment provider's references for a customer (for Stripe, `cus_…` and `pm_…`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProviderJson {
    /// The provider's id for the customer.
    #[schema(example = "cus_NffrFeUfNV2Hib")]
    customer_ref: Option<String>,
    /// The payment method to charge; the provider's default for the customer when `null`.
    #[schema(example = "pm_1MqLiJLkdIwHu7ixUEgbFdYF")]
    payment_method_ref: Option<String>,
}

impl From<&Customer> for CustomerJson {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id.get(),
            currency: c.currency,
            external_id: c.external_id.as_ref().map(ToString::to_string),
            name: c.name.clone(),
            email: c.email.clone(),
            provider: ProviderJson::from(&c.provider),
        }
    }
}

impl From<&ProviderRefs> for ProviderJson {
    fn from(p: &ProviderRefs) -> Self {
        Self {
            customer_ref: p.customer_ref.clone(),
            payment_method_ref: p.payment_method_ref.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{CustomerId, ExternalId};

    use super::*;

    #[test]
    fn the_original_fields_come_first_and_absent_ones_are_null() {
        let original = Customer::new(CustomerId::new(1).unwrap(), Currency::DKK);
        assert_eq!(
            serde_json::to_string(&CustomerJson::from(&original)).unwrap(),
            r#"{"id":1,"currency":"DKK","externalId":null,"name":null,"email":null,"provider":{"customerRef":null,"paymentMethodRef":null}}"#
        );
        let acme = Customer {
            external_id: Some(ExternalId::parse("acme-42").unwrap()),
            name: Some("Acme".into()),
            email: Some("billing@acme.test".into()),
            provider: ProviderRefs {
                customer_ref: Some("cus_1".into()),
                payment_method_ref: Some("pm_1".into()),
            },
            ..Customer::new(CustomerId::new(2).unwrap(), Currency::EUR)
        };
        assert_eq!(
            serde_json::to_string(&CustomerJson::from(&acme)).unwrap(),
            r#"{"id":2,"currency":"EUR","externalId":"acme-42","name":"Acme","email":"billing@acme.test","provider":{"customerRef":"cus_1","paymentMethodRef":"pm_1"}}"#
        );
    }
}
