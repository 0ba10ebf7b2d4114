//! What `antaeus bill` prints when its run has ended: the run, its invoices by result and its
//! provider calls by outcome, in words.

use std::time::Duration;

use antaeus_models::{BillingRun, CallCounts};

/// The summary's lines: the run, its invoices, its provider calls.
pub fn summary_lines(run: &BillingRun, calls: &CallCounts, elapsed: Duration) -> [String; 3] {
    let c = run.counts;
    [
        format!(
            "billing run {} {} in {:.1}s (key {}, trigger {})",
            run.id,
            run.status,
            elapsed.as_secs_f64(),
            run.idempotency_key,
            run.trigger
        ),
        format!(
            "invoices: {} claimed, {} paid, {} declined (dunning retry scheduled), {} failed, {} retry scheduled (outcome unknown), {} released unsent",
            c.claimed, c.paid, c.declined, c.failed, c.retry_scheduled, c.released
        ),
        calls_line(calls),
    ]
}

/// `provider calls: 3 (charged 2, declined 1)`, or `provider calls: none` for a run that
/// charged nothing.
fn calls_line(calls: &CallCounts) -> String {
    let mut parts: Vec<String> = calls
        .by_outcome
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(outcome, n)| format!("{outcome} {n}"))
        .collect();
    if calls.in_flight > 0 {
        parts.push(format!("unrecorded {}", calls.in_flight));
    }
    match calls.total() {
        0 => "provider calls: none".to_owned(),
        total => format!("provider calls: {total} ({})", parts.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::AttemptOutcome;

    use super::*;

    #[test]
    fn a_run_without_calls_says_none_and_one_with_calls_counts_them_by_outcome() {
        assert_eq!(calls_line(&CallCounts::default()), "provider calls: none");
        let calls = CallCounts {
            by_outcome: vec![(AttemptOutcome::Charged, 2), (AttemptOutcome::Declined, 1)],
            in_flight: 1,
        };
        assert_eq!(
            calls_line(&calls),
            "provider calls: 4 (charged 2, declined 1, unrecorded 1)"
        );
    }
}
