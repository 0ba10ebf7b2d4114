use crate::{Currency, CustomerId, ExternalId};

/// A customer of the SaaS company; every invoice of theirs is in their currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// The customer's id.
    pub id: CustomerId,
    /// The currency the customer is billed in.
    pub currency: Currency,
    /// The SaaS's own id for the customer (unique).
    pub external_id: Option<ExternalId>,
    /// A name to show operators.
    pub name: Option<String>,
    /// Where the customer is reached.
    pub email: Option<String>,
    /// What the payment provider needs to charge the customer.
    pub provider: ProviderRefs,
}

impl Customer {
    /// A customer as the original Antaeus knew them: an id and a currency.
    pub fn new(id: CustomerId, currency: Currency) -> Self {
        Self {
            id,
            currency,
            external_id: None,
            name: None,
            email: None,
            provider: ProviderRefs::default(),
        }
    }
}

/// The payment provider's references for a customer: what a real provider charges (for
/// Stripe, the customer `cus_…` and a saved card `pm_…`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderRefs {
    /// The provider's id for the customer.
    pub customer_ref: Option<String>,
    /// The payment method to charge; the provider's default for the customer when absent.
    pub payment_method_ref: Option<String>,
}
