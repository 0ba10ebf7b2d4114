//! Domain types shared by every Antaeus layer.
//!
//! Values here are parsed once at the edge ("parse, don't validate"): a [`Currency`], an
//! [`InvoiceId`] or a [`Money`] that exists is valid, so the layers behind the edge never check
//! again.

#[macro_use]
mod string_enum;
#[macro_use]
mod visible_text;

mod billing;
mod currency;
mod customer;
mod error;
mod event_id;
mod event_record;
mod external_id;
mod idempotency_key;
mod ids;
mod instance_id;
mod invoice;
mod money;
mod money_total;
mod notification;
mod page;
mod payment;
mod stats;

pub use billing::{
    AttemptOutcome, BillingRun, CallCounts, ChargeAttempt, RunCounts, RunScope, RunStatus,
    RunTrigger,
};
pub use currency::Currency;
pub use customer::{Customer, ProviderRefs};
pub use error::ModelError;
pub use event_id::EventId;
pub use event_record::{EventFilter, EventRecord, EventStatus};
pub use external_id::ExternalId;
pub use idempotency_key::IdempotencyKey;
pub use ids::{CustomerId, EventSeq, InvoiceId, RefundId, RunId};
pub use instance_id::InstanceId;
pub use invoice::{DisputeFilter, DueFilter, FailureReason, Invoice, InvoiceFilter, InvoiceStatus};
pub use money::Money;
pub use money_total::MoneyTotal;
pub use notification::{
    DisputeEvent, EventData, EventKind, InvoiceEvent, Notification, RefundEvent, RunEvent,
};
pub use page::{PageLimit, PageRequest};
pub use payment::{Dispute, Refund, RefundOrigin, RefundStatus};
pub use stats::{InvoiceTotal, MonthlyMetric, MonthlyStat, RunMinute};
