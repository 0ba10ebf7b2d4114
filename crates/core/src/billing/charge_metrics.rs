//! The charging metrics, registered once per run so that a provider call only updates handles.

use antaeus_models::AttemptOutcome;
use metrics::{Counter, Histogram};

use crate::{ChargeDecision, ProviderError};

/// How the provider answered a charge call: the `class` label of
/// `antaeus_provider_responses_total`, so that alerts can watch the share of 429s and 5xx among
/// all calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseClass {
    /// A decision (charged, declined, customer not found, currency mismatch, amount not
    /// chargeable).
    Answered,
    /// Accepted and still being decided.
    Processing,
    /// 429: the provider cannot take the request now.
    RateLimited,
    /// Another "unavailable" status (5xx).
    ServerError,
    /// A lost connection.
    Network,
    /// No answer in time.
    Timeout,
    /// The same key is still being processed.
    InProgress,
    /// An answer outside the protocol, or our key refused as reused.
    Protocol,
    /// Our credentials were refused (401, 403).
    Unauthorized,
}

impl ResponseClass {
    /// Every class, each a series registered at zero.
    pub const ALL: [Self; 9] = [
        Self::Answered,
        Self::Processing,
        Self::RateLimited,
        Self::ServerError,
        Self::Network,
        Self::Timeout,
        Self::InProgress,
        Self::Protocol,
        Self::Unauthorized,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Processing => "processing",
            Self::RateLimited => "429",
            Self::ServerError => "5xx",
            Self::Network => "network",
            Self::Timeout => "timeout",
            Self::InProgress => "in_progress",
            Self::Protocol => "protocol",
            Self::Unauthorized => "unauthorized",
        }
    }

    /// The class of a charge call's result; the outer error is the call timeout's.
    pub(crate) fn of<E>(result: &Result<Result<ChargeDecision, ProviderError>, E>) -> Self {
        match result {
            Ok(Ok(_)) => Self::Answered,
            Err(_) | Ok(Err(ProviderError::Timeout)) => Self::Timeout,
            Ok(Err(ProviderError::Unavailable { status: 429, .. })) => Self::RateLimited,
            Ok(Err(ProviderError::Unavailable { .. })) => Self::ServerError,
            Ok(Err(ProviderError::Network(_))) => Self::Network,
            Ok(Err(ProviderError::InProgress)) => Self::InProgress,
            Ok(Err(ProviderError::Processing { .. })) => Self::Processing,
            Ok(Err(ProviderError::Protocol(_) | ProviderError::IdempotencyKeyReused)) => {
                Self::Protocol
            }
            Ok(Err(ProviderError::Unauthorized(_))) => Self::Unauthorized,
        }
    }
}

/// Handles of `antaeus_charges_total{outcome}`, `antaeus_provider_responses_total{class}`,
/// `antaeus_charge_duration_seconds` and `antaeus_invoice_seconds`.
pub(crate) struct ChargeMetrics {
    /// One counter per outcome, in the order of `AttemptOutcome::ALL`.
    charges: Vec<(AttemptOutcome, Counter)>,
    /// One counter per response class, in the order of [`ResponseClass::ALL`].
    responses: Vec<(ResponseClass, Counter)>,
    /// How long each provider call took.
    pub call_seconds: Histogram,
    /// How long each invoice took, from its task's start to its outcome being handed over.
    pub invoice_seconds: Histogram,
}

impl ChargeMetrics {
    /// Registers the handles with the recorder installed now.
    pub fn register() -> Self {
        Self {
            charges: AttemptOutcome::ALL
                .iter()
                .map(|&o| {
                    (
                        o,
                        metrics::counter!("antaeus_charges_total", "outcome" => o.as_str()),
                    )
                })
                .collect(),
            responses: ResponseClass::ALL
                .iter()
                .map(|&class| {
                    (
                        class,
                        metrics::counter!("antaeus_provider_responses_total", "class" => class.as_str()),
                    )
                })
                .collect(),
            call_seconds: metrics::histogram!("antaeus_charge_duration_seconds"),
            invoice_seconds: metrics::histogram!("antaeus_invoice_seconds"),
        }
    }

    /// Counts one call that ended with `outcome`.
    pub fn count(&self, outcome: AttemptOutcome) {
        if let Some((_, counter)) = self.charges.iter().find(|(o, _)| *o == outcome) {
            counter.increment(1);
        }
    }

    /// Counts one provider answer of `class`.
    pub fn count_response(&self, class: ResponseClass) {
        if let Some((_, counter)) = self.responses.iter().find(|(c, _)| *c == class) {
            counter.increment(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn class_of(err: ProviderError) -> &'static str {
        response_class::<()>(&Ok(Err(err)))
    }

    fn response_class<E>(
        result: &Result<Result<ChargeDecision, ProviderError>, E>,
    ) -> &'static str {
        ResponseClass::of(result).as_str()
    }

    #[test]
    fn a_429_and_a_5xx_are_told_apart_from_other_failures() {
        let unavailable = |status| ProviderError::Unavailable {
            status,
            retry_after: Some(Duration::from_secs(1)),
        };
        assert_eq!(class_of(unavailable(429)), "429");
        assert_eq!(class_of(unavailable(500)), "5xx");
        assert_eq!(class_of(unavailable(503)), "5xx");
        assert_eq!(class_of(ProviderError::Network("reset".into())), "network");
        assert_eq!(class_of(ProviderError::Timeout), "timeout");
        assert_eq!(
            response_class::<()>(&Err(())),
            "timeout",
            "the call timeout"
        );
        assert_eq!(class_of(ProviderError::InProgress), "in_progress");
        assert_eq!(
            class_of(ProviderError::Processing { provider_ref: None }),
            "processing"
        );
        assert_eq!(class_of(ProviderError::IdempotencyKeyReused), "protocol");
        assert_eq!(
            class_of(ProviderError::Protocol("404 page".into())),
            "protocol"
        );
        assert_eq!(
            class_of(ProviderError::Unauthorized("key refused".into())),
            "unauthorized"
        );
        assert_eq!(
            response_class::<()>(&Ok(Ok(ChargeDecision::CustomerNotFound))),
            "answered"
        );
    }

    #[test]
    fn every_class_is_one_of_the_registered_ones() {
        let results: Vec<Result<Result<ChargeDecision, ProviderError>, ()>> = vec![
            Ok(Ok(ChargeDecision::CurrencyMismatch)),
            Err(()),
            Ok(Err(ProviderError::Unavailable {
                status: 429,
                retry_after: None,
            })),
            Ok(Err(ProviderError::Unavailable {
                status: 502,
                retry_after: None,
            })),
            Ok(Err(ProviderError::Network(String::new()))),
            Ok(Err(ProviderError::InProgress)),
            Ok(Err(ProviderError::Processing { provider_ref: None })),
            Ok(Err(ProviderError::Protocol(String::new()))),
            Ok(Err(ProviderError::Unauthorized(String::new()))),
        ];
        let mut seen: Vec<_> = results.iter().map(response_class).collect();
        seen.sort_unstable();
        let mut all: Vec<_> = ResponseClass::ALL.iter().map(|c| c.as_str()).collect();
        all.sort_unstable();
        assert_eq!(seen, all, "each class is reachable and registered");
    }
}
