//! One module per resource; a reader finds a handler by its URL.

pub mod customers;
pub mod fallback;
pub mod health;
pub mod invoices;
mod next_page;
