use crate::{Currency, CustomerId};

/// A customer of the SaaS company; every invoice of theirs is in their currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    /// The customer's id.
    pub id: CustomerId,
    /// The currency the customer is billed in.
    pub currency: Currency,
}
