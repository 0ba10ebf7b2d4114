//! The charging metrics, registered once per run so that a provider call only updates handles.

use antaeus_models::AttemptOutcome;
use metrics::{Counter, Histogram};

use crate::{ChargeDecision, ProviderError};

/// The classes of `antaeus_provider_responses_total{class}`: how the provider answered a charge
/// call, so that alerts can watch the share of 429s and 5xx among all calls.
///
/// - `answered`: a decision (charged, declined, customer not found, currency mismatch, amount
///   not chargeable);
/// - `processing`: accepted and still being decided;
/// - `429`, `5xx`: the provider said it cannot take the request now;
/// - `network`, `timeout`: no usable answer (a lost connection, no answer in time);
/// - `in_progress`: the same key is still being processed;
/// - `protocol`: an answer outside the protocol, or our key refused as reused;
/// - `unauthorized`: our credentials were refused (401, 403).
pub const PROVIDER_RESPONSE_CLASSES: [&str; 9] = [
    "answered",
    "processing",
    "429",
    "5xx",
    "network",
    "timeout",
    "in_progress",
    "protocol",
    "unauthorized",
];

/// The class (one of [`PROVIDER_RESPONSE_CLASSES`]) of a charge call's result; the outer error
/// is the call timeout's.
pub(crate) fn response_class<E>(
    result: &Result<Result<ChargeDecision, ProviderError>, E>,
) -> &'static str {
    match result {
        Ok(Ok(_)) => "answered",
        Err(_) | Ok(Err(ProviderError::Timeout)) => "timeout",
        Ok(Err(ProviderError::Unavailable { status: 429, .. })) => "429",
        Ok(Err(ProviderError::Unavailable { .. })) => "5xx",
        Ok(Err(ProviderError::Network(_))) => "network",
        Ok(Err(ProviderError::InProgress)) => "in_progress",
        Ok(Err(ProviderError::Processing { .. })) => "processing",
        Ok(Err(ProviderError::Protocol(_) | ProviderError::IdempotencyKeyReused)) => "protocol",
        Ok(Err(ProviderError::Unauthorized(_))) => "unauthorized",
    }
}

/// Handles of `antaeus_charges_total{outcome}`, `antaeus_provider_responses_total{class}`,
/// `antaeus_charge_duration_seconds` and `antaeus_invoice_seconds`.
pub(crate) struct ChargeMetrics {
    /// One counter per outcome, in the order of `AttemptOutcome::ALL`.
    charges: Vec<(AttemptOutcome, Counter)>,
    /// One counter per response class, in the order of [`PROVIDER_RESPONSE_CLASSES`].
    responses: Vec<(&'static str, Counter)>,
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
            responses: PROVIDER_RESPONSE_CLASSES
                .iter()
                .map(|&class| {
                    (
                        class,
                        metrics::counter!("antaeus_provider_responses_total", "class" => class),
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

    /// Counts one provider answer of `class` (see [`response_class`]).
    pub fn count_response(&self, class: &str) {
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
        let mut all = PROVIDER_RESPONSE_CLASSES.to_vec();
        all.sort_unstable();
        assert_eq!(seen, all, "each class is reachable and registered");
    }
}
