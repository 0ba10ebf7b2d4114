//! What billing records: runs, charge attempts and their outcomes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{IdempotencyKey, InvoiceId, RunId};

string_enum! {
    /// How one provider call ended, as the charge-attempt log records it.
    pub enum AttemptOutcome ("attempt outcome") {
        /// The customer was charged.
        Charged = "charged",
        /// The customer's balance did not allow the charge.
        Declined = "declined",
        /// The provider does not know the customer.
        CustomerNotFound = "customer_not_found",
        /// The invoice's currency is not the customer's.
        CurrencyMismatch = "currency_mismatch",
        /// The request or its answer was lost (refused, reset, 429, 5xx, request in progress).
        NetworkError = "network_error",
        /// No answer within the timeout.
        Timeout = "timeout",
        /// The provider answered outside the protocol, or refused our idempotency key.
        ProtocolError = "protocol_error",
        /// The instance making the call stopped before recording its outcome; the call was
        /// resent under the same key by another attempt.
        Abandoned = "abandoned",
        /// The provider accepted the charge but has not decided it yet; the next attempt asks
        /// again under the same key.
        Processing = "processing",
    }
}

impl AttemptOutcome {
    /// Whether the provider's decision is known: only then may a new idempotency key be used.
    pub const fn is_definitive(self) -> bool {
        matches!(
            self,
            AttemptOutcome::Charged
                | AttemptOutcome::Declined
                | AttemptOutcome::CustomerNotFound
                | AttemptOutcome::CurrencyMismatch
        )
    }
}

string_enum! {
    /// What started a billing run.
    pub enum RunTrigger ("run trigger") {
        /// The built-in scheduler.
        Scheduler = "scheduler",
        /// A call of the REST trigger.
        Api = "api",
        /// An AWS EventBridge event delivered to the REST trigger.
        EventBridge = "eventbridge",
        /// `antaeus bill` on the command line.
        Cli = "cli",
        /// An operator's "Start a run" in the console.
        Console = "console",
    }
}

string_enum! {
    /// Which due invoices a run charges.
    pub enum RunScope ("run scope") {
        /// Everything due: invoices never tried whose due date has passed, and every scheduled
        /// retry that is due (the monthly run).
        All = "all",
        /// Only scheduled retries that are due: a decline's dunning step, an unknown outcome's
        /// backoff, a manual retry (the hourly sweep).
        Retries = "retries",
    }
}

string_enum! {
    /// Where a billing run is.
    pub enum RunStatus ("run status") {
        /// Claiming and charging.
        Running = "RUNNING",
        /// Nothing due was left unprocessed.
        Completed = "COMPLETED",
        /// Stopped early (shutdown, provider outage, storage failure); what it did not charge
        /// is still due.
        Aborted = "ABORTED",
    }
}

/// Invoice-level results of a run, kept up to date in the same transactions as the invoices.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunCounts {
    /// Invoices claimed (an invoice retried within the run counts each time).
    pub claimed: u64,
    /// Invoices charged: now PAID.
    pub paid: u64,
    /// Invoices declined and scheduled for a dunning retry.
    pub declined: u64,
    /// Invoices given up on: now FAILED.
    pub failed: u64,
    /// Invoices whose outcome stayed unknown: released, same key, retried later.
    pub retry_scheduled: u64,
    /// Invoices claimed but returned unsent (shutdown, provider outage).
    pub released: u64,
}

impl RunCounts {
    /// Claimed invoices without a result yet (in flight).
    pub fn in_flight(&self) -> u64 {
        self.claimed.saturating_sub(
            self.paid + self.declined + self.failed + self.retry_scheduled + self.released,
        )
    }
}

/// A run's provider calls by outcome, from the charge-attempt log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// Completed calls per outcome, in [`AttemptOutcome::ALL`] order, zeros omitted.
    pub by_outcome: Vec<(AttemptOutcome, u64)>,
    /// Calls whose outcome is not recorded yet.
    pub in_flight: u64,
}

impl CallCounts {
    /// Every call, finished or not.
    pub fn total(&self) -> u64 {
        self.in_flight + self.by_outcome.iter().map(|(_, n)| n).sum::<u64>()
    }

    /// Calls that ended with `outcome`.
    pub fn of(&self, outcome: AttemptOutcome) -> u64 {
        self.by_outcome
            .iter()
            .find(|(o, _)| *o == outcome)
            .map_or(0, |(_, n)| *n)
    }
}

/// One billing run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillingRun {
    /// The run's id.
    pub id: RunId,
    /// Unique per run: the same key always names the same run.
    pub idempotency_key: IdempotencyKey,
    /// What started it.
    pub trigger: RunTrigger,
    /// Which due invoices it charges.
    pub scope: RunScope,
    /// Where it is.
    pub status: RunStatus,
    /// The instance driving it.
    pub instance_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended, once it has.
    pub finished_at: Option<DateTime<Utc>>,
    /// Why it was aborted, if it was.
    pub abort_reason: Option<String>,
    /// What it did so far.
    pub counts: RunCounts,
    /// Identifies what the request that created it asked the run to do (e.g. `scope=all`),
    /// to refuse a key reused for a different run; `None` for runs created before this was
    /// recorded.
    pub request_fingerprint: Option<String>,
}

/// One provider call, as the audit log keeps it: the intent is written before the call and
/// completed with the outcome after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChargeAttempt {
    /// The invoice charged.
    pub invoice_id: InvoiceId,
    /// The run that made the call, if any.
    pub run_id: Option<RunId>,
    /// 1 for the first call for this invoice, then 2, 3, …
    pub attempt_number: u32,
    /// The key sent to the provider; resends of an unknown outcome reuse it.
    pub idempotency_key: IdempotencyKey,
    /// The instance that made the call.
    pub instance_id: String,
    /// When the intent was recorded, just before the call.
    pub started_at: DateTime<Utc>,
    /// When the outcome was recorded.
    pub finished_at: Option<DateTime<Utc>>,
    /// How the call ended; `None` while in flight (or if the caller died before recording it).
    pub outcome: Option<AttemptOutcome>,
    /// The provider's charge id, or what went wrong.
    pub message: Option<String>,
    /// The provider's reason for a decline (e.g. `insufficient_funds`), when it gave one.
    pub decline_code: Option<String>,
    /// The provider's own reference for the charge (a Stripe PaymentIntent id), when known.
    pub provider_ref: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_provider_decisions_are_definitive() {
        let definitive: Vec<_> = AttemptOutcome::ALL
            .iter()
            .filter(|o| o.is_definitive())
            .map(|o| o.as_str())
            .collect();
        assert_eq!(
            definitive,
            [
                "charged",
                "declined",
                "customer_not_found",
                "currency_mismatch"
            ]
        );
    }

    #[test]
    fn in_flight_is_claimed_minus_results() {
        let counts = RunCounts {
            claimed: 10,
            paid: 4,
            declined: 1,
            failed: 1,
            retry_scheduled: 1,
            released: 1,
        };
        assert_eq!(counts.in_flight(), 2);
    }
}
