//! The fake Stripe's memory: idempotency keys (kept 24 hours of its clock, answers replayed),
//! PaymentIntents, and the charges made per invoice, which is how tests prove nobody was
//! charged twice.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

/// How long Stripe keeps an idempotency key.
pub const KEY_RETENTION: TimeDelta = TimeDelta::hours(24);

/// What a customer's card does when charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Card {
    /// Charged at once.
    Succeeds,
    /// Declined with this decline code (`card_declined` / code).
    Declines(&'static str),
    /// Off-session authentication (SCA) required: 402 `authentication_required`.
    NeedsAuthentication,
    /// Left `requires_action` (a 200).
    LeftRequiringAction,
    /// `processing`; succeeds once it has been retrieved this many times.
    ProcessesFor(u32),
    /// Charged at once, but every answer to a creation for this customer (first or replayed)
    /// comes too late for the client: the outcome stays unknown until the key is forgotten.
    AnswersLost,
}

/// A fault injected into the next create request (before the idempotency layer, as a load
/// balancer's, or around the processing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 `rate_limit_error` with `Retry-After`, nothing processed.
    RateLimited { retry_after_s: u64 },
    /// 500 `api_error` before anything was processed (not stored).
    ErrorBefore,
    /// Processed and stored, but the answer comes only after this long (the client gives up).
    SlowAnswer(Duration),
    /// Processing takes this long, the key in flight meanwhile (a resend gets 409).
    SlowProcessing(Duration),
    /// Processed, then a 500 stored under the key in place of the answer, replayed with
    /// `Stripe-Should-Retry: false` (as Stripe does).
    StoredError,
}

/// One answer: status, body, headers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: Vec<(&'static str, String)>,
}

impl Answer {
    pub fn new(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    pub fn error(status: u16, kind: &str, code: Option<&str>, extra: Value) -> Self {
        let mut error = json!({"type": kind, "message": format!("{kind} {}", code.unwrap_or(""))});
        if let Some(code) = code {
            error["code"] = json!(code);
        }
        if let (Some(e), Some(x)) = (error.as_object_mut(), extra.as_object()) {
            e.extend(x.clone());
        }
        Self::new(status, json!({ "error": error }))
    }
}

/// An idempotency key Stripe has seen.
#[derive(Debug)]
pub struct KeyEntry {
    /// The form body the key was first sent with.
    pub params: String,
    /// When it was first seen.
    pub first_seen: DateTime<Utc>,
    /// The stored answer; `None` while the first request is in flight.
    pub answer: Option<Answer>,
}

/// A PaymentIntent.
#[derive(Debug, Clone)]
pub struct Intent {
    pub id: String,
    pub status: &'static str,
    pub invoice: i64,
    pub key: String,
    pub amount: i64,
    pub currency: String,
    pub customer: String,
    pub card: Card,
    pub polls: u32,
    pub last_payment_error: Option<Value>,
    /// `metadata[antaeus_deployment]`, when the request carried one.
    pub deployment: Option<String>,
}

impl Intent {
    pub fn json(&self) -> Value {
        let mut metadata =
            json!({"antaeus_invoice_id": self.invoice.to_string(), "antaeus_key": self.key});
        if let Some(deployment) = &self.deployment {
            metadata["antaeus_deployment"] = json!(deployment);
        }
        json!({
            "id": self.id,
            "object": "payment_intent",
            "status": self.status,
            "amount": self.amount,
            "currency": self.currency,
            "customer": self.customer,
            "latest_charge": format!("ch_{}", &self.id[3..]),
            "last_payment_error": self.last_payment_error,
            "cancellation_reason": (self.status == "canceled").then_some("requested_by_customer"),
            "metadata": metadata,
        })
    }
}

/// Everything the fake remembers.
#[derive(Debug, Default)]
pub struct Ledger {
    pub keys: HashMap<String, KeyEntry>,
    pub intents: HashMap<String, Intent>,
    /// Customer id → (default payment method, card).
    pub customers: HashMap<String, (Option<String>, Card)>,
    /// Successful charges per invoice.
    pub charges: HashMap<i64, u32>,
    /// Requests by kind (`create`, `retrieve`, `search`, `customer`, `429`, …).
    pub requests: HashMap<&'static str, u64>,
    pub next_id: u64,
    /// Refunds made, by id.
    pub refunds: HashMap<String, FakeRefund>,
    /// Refund idempotency keys: the form first sent, and the answer stored.
    pub refund_keys: HashMap<String, (String, Answer)>,
}

/// A refund made.
#[derive(Debug, Clone)]
pub struct FakeRefund {
    pub id: String,
    pub intent: String,
    pub amount: i64,
    pub antaeus_refund: Option<String>,
    pub deployment: Option<String>,
}

impl FakeRefund {
    pub fn json(&self) -> Value {
        let mut metadata = json!({});
        if let Some(id) = &self.antaeus_refund {
            metadata["antaeus_refund_id"] = json!(id);
        }
        if let Some(deployment) = &self.deployment {
            metadata["antaeus_deployment"] = json!(deployment);
        }
        json!({
            "id": self.id, "object": "refund", "amount": self.amount, "currency": "eur",
            "payment_intent": self.intent, "status": "succeeded", "metadata": metadata,
        })
    }
}

impl Ledger {
    /// Counts a request of `kind`.
    pub fn count(&mut self, kind: &'static str) {
        *self.requests.entry(kind).or_default() += 1;
    }

    /// Whether the answers to `form`'s creation are lost ([`Card::AnswersLost`]).
    pub fn answers_lost(&self, form: &str) -> bool {
        let form: HashMap<String, String> = serde_urlencoded::from_str(form).unwrap_or_default();
        form.get("customer")
            .and_then(|c| self.customers.get(c))
            .is_some_and(|(_, card)| *card == Card::AnswersLost)
    }

    /// Records a successful charge of `invoice`.
    pub fn charge(&mut self, invoice: i64) {
        *self.charges.entry(invoice).or_default() += 1;
    }

    /// Processes a new PaymentIntent: the answer Stripe gives to its creation.
    pub fn create_intent(&mut self, form: &HashMap<String, String>) -> Answer {
        let customer = form.get("customer").cloned().unwrap_or_default();
        let Some((default, card)) = self.customers.get(&customer).cloned() else {
            return Answer::error(
                400,
                "invalid_request_error",
                Some("resource_missing"),
                json!({"param": "customer"}),
            );
        };
        let method = form.get("payment_method").cloned().or(default);
        if method.is_none() {
            return Answer::error(
                400,
                "invalid_request_error",
                Some("parameter_missing"),
                json!({"param": "payment_method"}),
            );
        }
        // Stripe's smallest charges: 0.50 in EUR, USD, 0.30 GBP, 2.50 DKK, 3.00 SEK.
        let minimum = match form.get("currency").map(String::as_str) {
            Some("gbp") => 30,
            Some("dkk") => 250,
            Some("sek") => 300,
            _ => 50,
        };
        let amount: i64 = form
            .get("amount")
            .and_then(|v| v.parse().ok())
            .unwrap_or_default();
        if amount < minimum {
            return Answer::error(
                400,
                "invalid_request_error",
                Some("amount_too_small"),
                json!({"param": "amount"}),
            );
        }
        self.next_id += 1;
        let mut intent = Intent {
            id: format!("pi_{:06}", self.next_id),
            status: "succeeded",
            invoice: form
                .get("metadata[antaeus_invoice_id]")
                .and_then(|v| v.parse().ok())
                .unwrap_or_default(),
            key: form
                .get("metadata[antaeus_key]")
                .cloned()
                .unwrap_or_default(),
            amount: form
                .get("amount")
                .and_then(|v| v.parse().ok())
                .unwrap_or_default(),
            currency: form.get("currency").cloned().unwrap_or_default(),
            customer,
            card: card.clone(),
            polls: 0,
            last_payment_error: None,
            deployment: form.get("metadata[antaeus_deployment]").cloned(),
        };
        let answer = match card {
            Card::Succeeds | Card::AnswersLost => {
                self.charge(intent.invoice);
                Answer::new(200, intent.json())
            }
            Card::Declines(code) => {
                intent.status = "requires_payment_method";
                let error =
                    json!({"type": "card_error", "code": "card_declined", "decline_code": code});
                intent.last_payment_error = Some(error.clone());
                let mut body = json!({ "error": error });
                body["error"]["payment_intent"] = intent.json();
                Answer::new(402, body)
            }
            Card::NeedsAuthentication => {
                intent.status = "requires_payment_method";
                let error = json!({"type": "card_error", "code": "authentication_required", "decline_code": "authentication_required"});
                intent.last_payment_error = Some(error.clone());
                let mut body = json!({ "error": error });
                body["error"]["payment_intent"] = intent.json();
                Answer::new(402, body)
            }
            Card::LeftRequiringAction => {
                intent.status = "requires_action";
                Answer::new(200, intent.json())
            }
            Card::ProcessesFor(_) => {
                intent.status = "processing";
                Answer::new(200, intent.json())
            }
        };
        self.intents.insert(intent.id.clone(), intent);
        answer
    }

    /// The PaymentIntent `id` as a retrieval sees it; a processing one moves on.
    pub fn retrieve(&mut self, id: &str) -> Answer {
        let mut charged = None;
        let Some(intent) = self.intents.get_mut(id) else {
            return Answer::error(
                404,
                "invalid_request_error",
                Some("resource_missing"),
                json!({"param": "intent"}),
            );
        };
        if let (Card::ProcessesFor(n), "processing") = (&intent.card, intent.status) {
            intent.polls += 1;
            if intent.polls >= *n {
                intent.status = "succeeded";
                charged = Some(intent.invoice);
            }
        }
        let answer = Answer::new(200, intent.json());
        if let Some(invoice) = charged {
            self.charge(invoice);
        }
        answer
    }

    /// Cancels the PaymentIntent `id`, as Stripe does: only while it waits for a payment
    /// method, an action or a confirmation.
    pub fn cancel(&mut self, id: &str) -> Answer {
        let Some(intent) = self.intents.get_mut(id) else {
            return Answer::error(
                404,
                "invalid_request_error",
                Some("resource_missing"),
                json!({"param": "intent"}),
            );
        };
        if !matches!(
            intent.status,
            "requires_payment_method" | "requires_action" | "requires_confirmation"
        ) {
            return Answer::error(
                400,
                "invalid_request_error",
                Some("payment_intent_unexpected_state"),
                json!({"payment_intent": intent.json()}),
            );
        }
        intent.status = "canceled";
        Answer::new(200, intent.json())
    }

    /// Refunds `form[amount]` of the PaymentIntent `form[payment_intent]`, if that much of it
    /// is left, as Stripe does.
    pub fn create_refund(&mut self, form: &HashMap<String, String>) -> Answer {
        let intent = form.get("payment_intent").cloned().unwrap_or_default();
        let Some(paid) = self
            .intents
            .get(&intent)
            .filter(|i| i.status == "succeeded")
            .map(|i| i.amount)
        else {
            return Answer::error(
                400,
                "invalid_request_error",
                Some("resource_missing"),
                json!({"param": "payment_intent"}),
            );
        };
        let refunded: i64 = self
            .refunds
            .values()
            .filter(|r| r.intent == intent)
            .map(|r| r.amount)
            .sum();
        let amount: i64 = form
            .get("amount")
            .and_then(|a| a.parse().ok())
            .unwrap_or(paid - refunded);
        if refunded >= paid {
            return Answer::error(
                400,
                "invalid_request_error",
                Some("charge_already_refunded"),
                json!({}),
            );
        }
        if amount > paid - refunded {
            return Answer::error(
                400,
                "invalid_request_error",
                Some("amount_too_large"),
                json!({}),
            );
        }
        self.next_id += 1;
        let refund = FakeRefund {
            id: format!("re_{:06}", self.next_id),
            intent,
            amount,
            antaeus_refund: form.get("metadata[antaeus_refund_id]").cloned(),
            deployment: form.get("metadata[antaeus_deployment]").cloned(),
        };
        let answer = Answer::new(200, refund.json());
        self.refunds.insert(refund.id.clone(), refund);
        answer
    }

    /// The PaymentIntents whose `antaeus_key` is `key`.
    pub fn search(&self, key: &str) -> Answer {
        let data: Vec<Value> = self
            .intents
            .values()
            .filter(|i| i.key == key)
            .map(Intent::json)
            .collect();
        Answer::new(
            200,
            json!({"object": "search_result", "data": data, "has_more": false}),
        )
    }
}
