use antaeus_models::{Refund, RefundOrigin, RefundStatus};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

use super::MoneyJson;
use super::amount::decimal_value;
use crate::ApiError;

/// One refund of a paid invoice: `{"id":1,"invoiceId":2,"amount":{…},"status":"succeeded",…}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundJson {
    id: i64,
    invoice_id: i64,
    amount: MoneyJson,
    /// Why, as the requester said.
    reason: Option<String>,
    /// `pending` (asked, the provider's answer not known yet: asked again under the same key),
    /// `succeeded` or `failed`.
    #[schema(value_type = String, example = "succeeded")]
    status: RefundStatus,
    /// `api` (through Antaeus) or `provider` (made at the provider, e.g. in Stripe's dashboard).
    #[schema(value_type = String, example = "api")]
    origin: RefundOrigin,
    /// The provider's id for it (e.g. Stripe's `re_…`), once known.
    provider_ref: Option<String>,
    /// Why it failed, or what the last lost answer was.
    failure_reason: Option<String>,
    /// Provider calls made for it.
    attempts: u32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&Refund> for RefundJson {
    fn from(r: &Refund) -> Self {
        Self {
            id: r.id.get(),
            invoice_id: r.invoice_id.get(),
            amount: MoneyJson::from(&r.amount),
            reason: r.reason.clone(),
            status: r.status,
            origin: r.origin,
            provider_ref: r.provider_ref.clone(),
            failure_reason: r.failure_reason.clone(),
            attempts: r.attempts,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// `{"amount":"5.00","reason":"requested_by_customer"}`: a refund to make. Both are optional:
/// without an amount, what is left of the payment is refunded.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundDraftJson {
    /// How much, in the invoice's currency: a JSON number or a decimal string, read exactly.
    #[schema(value_type = Option<String>, example = "5.00")]
    amount: Option<Box<RawValue>>,
    /// Why (kept with the refund; Stripe's own `duplicate`, `fraudulent` and
    /// `requested_by_customer` are passed on as its reason).
    #[schema(example = "requested_by_customer")]
    reason: Option<String>,
}

impl RefundDraftJson {
    /// The amount (`None`: what is left) and the reason, or a 400 naming what is wrong.
    pub fn into_parts(self) -> Result<(Option<Decimal>, Option<String>), ApiError> {
        let amount = self
            .amount
            .map(|raw| {
                decimal_value(&raw)
                    .map_err(|why| ApiError::BadRequest(format!("amount {}: {why}", raw.get())))
            })
            .transpose()?;
        Ok((amount, self.reason))
    }
}
