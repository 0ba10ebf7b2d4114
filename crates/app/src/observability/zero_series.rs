//! Counters registered at zero when the recorder is installed. Prometheus' `increase()` cannot
//! see the first increment of a series that appears with it (a process's first ABORTED run
//! would appear at 1 and never alert), so every label value an alert watches exists from the
//! start.

use antaeus_core::billing::ResponseClass;
use antaeus_models::{AttemptOutcome, RunStatus, RunTrigger};

/// Registers each counter series the alerts and the dashboard read, at zero.
pub fn register() {
    for outcome in AttemptOutcome::ALL {
        metrics::counter!("antaeus_charges_total", "outcome" => outcome.as_str()).increment(0);
    }
    for class in ResponseClass::ALL {
        metrics::counter!("antaeus_provider_responses_total", "class" => class.as_str())
            .increment(0);
    }
    for trigger in RunTrigger::ALL {
        metrics::counter!("antaeus_runs_started_total", "trigger" => trigger.as_str()).increment(0);
    }
    for status in [RunStatus::Completed, RunStatus::Aborted] {
        metrics::counter!("antaeus_runs_completed_total", "status" => status.as_str()).increment(0);
    }
    metrics::counter!("antaeus_runs_handed_over_total").increment(0);
    metrics::counter!("antaeus_provider_rate_limited_total").increment(0);
}
