//! The JSON shapes of the API. The original Antaeus shapes are kept exactly (camelCase fields,
//! amounts as exact JSON numbers); what billing and invoicing add comes after them.
//!
//! Request bodies of the create and update endpoints refuse unknown fields (a typo must not
//! silently change what is billed); the billing trigger ignores them (EventBridge events carry
//! many).

mod amount;
mod attempt;
mod batch;
mod customer;
mod customer_new;
mod customer_patch;
mod event;
mod invoice;
mod invoice_draft;
mod money;
mod object;
mod patch_field;
mod refund;
mod run;
mod text;

pub use amount::AmountJson;
pub(crate) use amount::positive_decimal;
pub use attempt::AttemptJson;
pub use batch::BatchItemJson;
pub use customer::{CustomerJson, ProviderJson};
pub use customer_new::{NewCustomerJson, ProviderRefsJson};
pub use customer_patch::{CustomerPatchJson, ProviderPatchJson};
pub use event::EventJson;
pub use invoice::{DisputeJson, InvoiceJson};
pub use invoice_draft::InvoiceDraftJson;
pub use money::MoneyJson;
pub use object::Object;
pub use refund::{RefundDraftJson, RefundJson};
pub use run::{CallsJson, RunCountsJson, RunJson};
