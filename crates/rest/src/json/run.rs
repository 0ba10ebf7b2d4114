use antaeus_core::RunView;
use antaeus_models::{BillingRun, CallCounts, RunScope, RunStatus, RunTrigger};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A billing run.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunJson {
    id: i64,
    idempotency_key: String,
    /// `scheduler`, `api`, `eventbridge`, `cli` or `console`.
    #[schema(value_type = String, example = "eventbridge")]
    trigger: RunTrigger,
    /// `all` (everything due: the monthly run) or `retries` (scheduled retries that are due:
    /// the hourly sweep).
    #[schema(value_type = String, example = "all")]
    scope: RunScope,
    /// `RUNNING`, `COMPLETED` or `ABORTED`.
    #[schema(value_type = String, example = "RUNNING")]
    status: RunStatus,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    abort_reason: Option<String>,
    counts: RunCountsJson,
    /// Provider calls by outcome (single-run view only).
    #[serde(skip_serializing_if = "Option::is_none")]
    provider_calls: Option<CallsJson>,
    /// When `providerCalls` and `counts.remaining` were counted (single-run view only). They
    /// count every call of the run and every due invoice, so on a large run a count is served
    /// again for ten times what it cost, 15 s at most, however many clients poll; the other
    /// counts are live.
    #[serde(skip_serializing_if = "Option::is_none")]
    counted_at: Option<DateTime<Utc>>,
}

/// What a run did, by invoice.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunCountsJson {
    claimed: u64,
    paid: u64,
    declined: u64,
    failed: u64,
    retry_scheduled: u64,
    released: u64,
    /// Claimed and not finished yet.
    in_flight: u64,
    /// While RUNNING (single-run view): invoices due and not yet claimed; otherwise `null`.
    remaining: Option<u64>,
}

/// Provider calls by outcome.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallsJson {
    total: u64,
    /// Calls whose outcome is not recorded yet.
    in_flight: u64,
    /// Outcome name → calls.
    #[schema(value_type = Object)]
    by_outcome: serde_json::Map<String, serde_json::Value>,
}

impl RunJson {
    /// The run as listed: counts only.
    pub fn summary(run: &BillingRun) -> Self {
        Self::new(run, None, None, None)
    }

    /// The run as fetched alone: its live counts, and its provider calls and the invoices still
    /// due as counted at `countedAt`.
    pub fn detailed(view: &RunView) -> Self {
        Self::new(
            &view.run,
            view.remaining,
            Some(CallsJson::from(&view.calls)),
            Some(view.counted_at),
        )
    }

    fn new(
        run: &BillingRun,
        remaining: Option<u64>,
        calls: Option<CallsJson>,
        counted_at: Option<DateTime<Utc>>,
    ) -> Self {
        let c = run.counts;
        Self {
            id: run.id.get(),
            idempotency_key: run.idempotency_key.to_string(),
            trigger: run.trigger,
            scope: run.scope,
            status: run.status,
            started_at: run.started_at,
            finished_at: run.finished_at,
            abort_reason: run.abort_reason.clone(),
            counts: RunCountsJson {
                claimed: c.claimed,
                paid: c.paid,
                declined: c.declined,
                failed: c.failed,
                retry_scheduled: c.retry_scheduled,
                released: c.released,
                in_flight: c.in_flight(),
                remaining,
            },
            provider_calls: calls,
            counted_at,
        }
    }
}

impl From<&CallCounts> for CallsJson {
    fn from(calls: &CallCounts) -> Self {
        Self {
            total: calls.total(),
            in_flight: calls.in_flight,
            by_outcome: calls
                .by_outcome
                .iter()
                .map(|(o, n)| (o.as_str().to_owned(), (*n).into()))
                .collect(),
        }
    }
}
