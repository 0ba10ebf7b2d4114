//! The Stripe objects webhook events carry that the charging side never reads: the event
//! itself, a Charge, a Refund with its metadata, a Dispute. As in the parent's `objects`,
//! only the fields the adapter reads are declared, and the rest is ignored.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use super::super::objects::Expandable;

/// An Event (`evt_…`): what every delivery's body is.
#[derive(Debug, Deserialize)]
pub struct Event {
    /// `evt_…`: the same on every redelivery.
    pub id: String,
    /// `event`, when present.
    #[serde(default)]
    pub object: Option<String>,
    /// `payment_intent.succeeded`, `charge.refunded`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// What the event is about.
    pub data: EventData,
}

/// An Event's `data`.
#[derive(Debug, Deserialize)]
pub struct EventData {
    /// The object as it was when the event happened, read once the type says what it is.
    pub object: Value,
}

/// A Charge (`ch_…`), as `charge.refunded` carries it.
#[derive(Debug, Deserialize)]
pub struct Charge {
    /// The PaymentIntent it belongs to, as an id or an object; `null` for a charge made
    /// without one.
    #[serde(default)]
    pub payment_intent: Option<Expandable>,
    /// The amount charged, in minor units.
    #[serde(default)]
    pub amount: Option<i64>,
    /// Everything refunded of it so far, in minor units.
    pub amount_refunded: i64,
    /// The currency, lowercase.
    #[serde(default)]
    pub currency: Option<String>,
    /// The PaymentIntent's metadata, which Stripe copies onto its charges.
    #[serde(default)]
    pub metadata: Option<HashMap<String, String>>,
}

/// A Refund (`re_…`), as `charge.refund.updated` and `refund.*` carry it.
#[derive(Debug, Deserialize)]
pub struct Refund {
    /// `re_…`.
    pub id: String,
    /// How much, in minor units.
    pub amount: i64,
    /// `pending`, `requires_action`, `succeeded`, `failed` or `canceled`.
    pub status: String,
    /// Why it failed, if it did.
    #[serde(default)]
    pub failure_reason: Option<String>,
    /// The PaymentIntent refunded, as an id or an object.
    #[serde(default)]
    pub payment_intent: Option<Expandable>,
    /// The currency, lowercase.
    #[serde(default)]
    pub currency: Option<String>,
    /// What Antaeus recorded with it (`antaeus_invoice_id`, `antaeus_refund_id`,
    /// `antaeus_deployment`); nothing for a refund made in Stripe's dashboard.
    #[serde(default)]
    pub metadata: Option<HashMap<String, String>>,
}

/// A Dispute (`dp_…`, `du_…`), as `charge.dispute.*` carry it.
#[derive(Debug, Deserialize)]
pub struct Dispute {
    /// `dp_…`.
    pub id: String,
    /// The amount disputed, in minor units.
    pub amount: i64,
    /// `warning_needs_response`, `needs_response`, `under_review`, `won`, `lost`, …
    pub status: String,
    /// The cardholder's reason (`fraudulent`, `product_not_received`, …).
    pub reason: String,
    /// The PaymentIntent disputed, as an id or an object.
    #[serde(default)]
    pub payment_intent: Option<Expandable>,
    /// The currency, lowercase.
    #[serde(default)]
    pub currency: Option<String>,
    /// When evidence is due, among other things.
    #[serde(default)]
    pub evidence_details: Option<EvidenceDetails>,
}

/// A Dispute's `evidence_details`.
#[derive(Debug, Deserialize)]
pub struct EvidenceDetails {
    /// Unix seconds; `null`, or `0` in newer versions, when no response is allowed.
    #[serde(default)]
    pub due_by: Option<i64>,
}
