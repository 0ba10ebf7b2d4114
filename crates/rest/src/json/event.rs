use antaeus_models::{EventRecord, EventStatus};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// An outbox event and its delivery: `{"seq":12,"id":"evt_…","type":"run.completed",…}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventJson {
    /// Its position in the outbox: the `after` cursor of the listing.
    seq: i64,
    /// The id receivers see (the `Antaeus-Event-Id` header); names it in `/redeliver`.
    #[schema(example = "evt_run_3_completed")]
    id: String,
    /// The event type, e.g. `invoice.charge_failed`.
    #[serde(rename = "type")]
    #[schema(example = "run.completed")]
    kind: String,
    created_at: DateTime<Utc>,
    /// `pending`, `delivered` or `dead`.
    #[schema(value_type = String, example = "dead")]
    status: EventStatus,
    /// Failed deliveries since it was written or last re-queued.
    failures: u32,
    /// Why the last delivery failed.
    last_error: Option<String>,
    /// While pending: when it is next tried.
    next_attempt_at: Option<DateTime<Utc>>,
    delivered_at: Option<DateTime<Utc>>,
    /// When it was given up.
    dead_at: Option<DateTime<Utc>>,
    /// The body receivers get; `null` when the stored payload is not JSON.
    #[schema(value_type = Object)]
    payload: Option<serde_json::Value>,
}

impl From<&EventRecord> for EventJson {
    fn from(e: &EventRecord) -> Self {
        Self {
            seq: e.seq.get(),
            id: e.id.clone(),
            kind: e.kind.clone(),
            created_at: e.created_at,
            status: e.status,
            failures: e.failures,
            last_error: e.last_error.clone(),
            next_attempt_at: e.next_attempt_at,
            delivered_at: e.delivered_at,
            dead_at: e.dead_at,
            payload: serde_json::from_str(&e.payload).ok(),
        }
    }
}
