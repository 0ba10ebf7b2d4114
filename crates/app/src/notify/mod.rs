//! Notifiers: where billing events go.

mod signature;
mod webhook;
