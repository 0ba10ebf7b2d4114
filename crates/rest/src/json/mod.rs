//! The JSON shapes of the API. The original Antaeus shapes are kept exactly (camelCase fields,
//! amounts as exact JSON numbers); what billing adds comes after them.

mod attempt;
mod customer;
mod event;
mod invoice;
mod money;
mod run;

pub use attempt::AttemptJson;
pub use customer::CustomerJson;
pub use event::EventJson;
pub use invoice::InvoiceJson;
pub use money::MoneyJson;
pub use run::{CallsJson, RunCountsJson, RunJson};
