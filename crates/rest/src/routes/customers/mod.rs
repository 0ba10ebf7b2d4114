//! `/rest/v1/customers`: listing and reading customers, creating and changing them.

pub mod get;
pub mod patch;
pub mod post;
