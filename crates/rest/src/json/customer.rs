use antaeus_models::{Currency, Customer};
use serde::Serialize;
use utoipa::ToSchema;

/// `{"id":1,"currency":"EUR"}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerJson {
    id: i64,
    #[schema(value_type = String, example = "EUR")]
    currency: Currency,
}

impl From<&Customer> for CustomerJson {
    fn from(c: &Customer) -> Self {
        Self {
            id: c.id.get(),
            currency: c.currency,
        }
    }
}
