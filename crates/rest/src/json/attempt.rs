use antaeus_models::{AttemptOutcome, ChargeAttempt};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// One provider call: `{"attemptNumber":1,"idempotencyKey":"antaeus-17-0",…}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptJson {
    attempt_number: u32,
    idempotency_key: String,
    run_id: Option<i64>,
    instance_id: String,
    started_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
    /// `charged`, `declined`, `customer_not_found`, `currency_mismatch`, `network_error`,
    /// `timeout`, `protocol_error`, `abandoned`, `processing`; `null` while in flight.
    #[schema(value_type = Option<String>, example = "charged")]
    outcome: Option<AttemptOutcome>,
    message: Option<String>,
    /// The provider's reason for a decline (e.g. `insufficient_funds`), when it gave one.
    decline_code: Option<String>,
    /// The provider's reference for the charge (e.g. a Stripe PaymentIntent id), when known.
    provider_ref: Option<String>,
}

impl From<&ChargeAttempt> for AttemptJson {
    fn from(a: &ChargeAttempt) -> Self {
        Self {
            attempt_number: a.attempt_number,
            idempotency_key: a.idempotency_key.to_string(),
            run_id: a.run_id.map(|r| r.get()),
            instance_id: a.instance_id.clone(),
            started_at: a.started_at,
            finished_at: a.finished_at,
            outcome: a.outcome,
            message: a.message.clone(),
            decline_code: a.decline_code.clone(),
            provider_ref: a.provider_ref.clone(),
        }
    }
}
