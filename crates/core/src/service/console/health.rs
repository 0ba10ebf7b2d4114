//! The provider's health as the console shows it.

use crate::billing::{BillingService, BreakerState};

/// The live state of provider calls on this instance.
pub trait ProviderHealth: Send + Sync {
    /// The circuit breaker's state.
    fn breaker_state(&self) -> BreakerState;
    /// Provider calls being made now.
    fn calls_in_flight(&self) -> usize;
}

impl ProviderHealth for BillingService {
    fn breaker_state(&self) -> BreakerState {
        BillingService::breaker_state(self)
    }

    fn calls_in_flight(&self) -> usize {
        BillingService::calls_in_flight(self)
    }
}
