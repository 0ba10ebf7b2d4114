//! The charging metrics, registered once per run so that a provider call only updates handles.

use antaeus_models::AttemptOutcome;
use metrics::{Counter, Histogram};

/// Handles of `antaeus_charges_total{outcome}`, `antaeus_charge_duration_seconds` and
/// `antaeus_invoice_seconds`.
pub(crate) struct ChargeMetrics {
    /// One counter per outcome, in the order of `AttemptOutcome::ALL`.
    charges: Vec<(AttemptOutcome, Counter)>,
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
}
