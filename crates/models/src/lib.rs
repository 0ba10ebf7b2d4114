//! Domain types shared by every Antaeus layer.
//!
//! Values here are parsed once at the edge ("parse, don't validate"): a [`Currency`], an
//! [`InvoiceId`] or a [`Money`] that exists is valid, so the layers behind the edge never check
//! again.

mod currency;
mod customer;
mod error;
mod idempotency_key;
mod ids;
mod invoice;
mod money;
mod page;

pub use currency::Currency;
pub use customer::Customer;
pub use error::ModelError;
pub use idempotency_key::IdempotencyKey;
pub use ids::{CustomerId, InvoiceId};
pub use invoice::{Invoice, InvoiceFilter, InvoiceStatus};
pub use money::Money;
pub use page::{PageLimit, PageRequest};
