//! `/rest/v1/invoices`: listing and reading invoices, creating them one by one or in batches,
//! voiding and retrying them, and their charge attempts.

pub mod attempts;
pub mod batch;
pub mod get;
pub mod post;
pub mod refunds;
pub mod retry;
pub mod void;
