use antaeus_models::{Currency, CustomerId, EventId, ExternalId, IdempotencyKey, InvoiceId, RunId};
use thiserror::Error;

use crate::store::StoreError;

/// Why a service operation did not complete.
#[derive(Debug, Error)]
pub enum ServiceError {
    /// No customer has this id.
    #[error("customer {0} not found")]
    CustomerNotFound(CustomerId),
    /// No invoice has this id.
    #[error("invoice {0} not found")]
    InvoiceNotFound(InvoiceId),
    /// No billing run has this id.
    #[error("billing run {0} not found")]
    RunNotFound(RunId),
    /// No event has this id.
    #[error("event {0} not found")]
    EventNotFound(EventId),
    /// The invoice is being charged right now; try again when the charge has ended.
    #[error("invoice {0} is being charged right now; retry it once the charge has ended")]
    InvoiceCharging(InvoiceId),
    /// The invoice is paid: there is nothing to retry or void.
    #[error("invoice {0} is paid")]
    InvoicePaid(InvoiceId),
    /// The invoice is void: it is never charged.
    #[error("invoice {0} is void; it is never charged")]
    InvoiceVoid(InvoiceId),
    /// The invoice's last charge has no known outcome: it may have been charged.
    #[error("invoice {invoice}'s last charge (key {key}) has no known outcome yet: the provider may have charged it, so it cannot be voided until a resend under the same key tells{}", retry_at.map(|t| format!(" (at {})", t.to_rfc3339())).unwrap_or_default())]
    OutcomeUnknown {
        /// The invoice.
        invoice: InvoiceId,
        /// The key whose outcome is unknown.
        key: String,
        /// When the key is resent.
        retry_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// A payment of the invoice may still complete at the provider.
    #[error(
        "invoice {invoice} has a payment that may still complete ({reference}: waiting for the customer, or processing), so it cannot be voided; cancel it at the provider first (the invoice can be voided once the cancellation is known), or wait for it to settle"
    )]
    PaymentMayComplete {
        /// The invoice.
        invoice: InvoiceId,
        /// The provider's reference for the payment.
        reference: String,
    },
    /// A customer with this external id (or created under this idempotency key) exists with
    /// other fields.
    #[error("customer {} exists (id {id}) with a different {}", external_id.as_ref().map_or("-", |e| e.as_str()), fields.join(", "))]
    CustomerConflict {
        /// The external id.
        external_id: Option<ExternalId>,
        /// The existing customer.
        id: CustomerId,
        /// The fields that differ.
        fields: Vec<&'static str>,
    },
    /// An invoice of this customer with this external id (or created under this idempotency
    /// key) exists with other fields.
    #[error("invoice {} exists (id {id}) with a different {}", external_id.as_ref().map_or("-", |e| e.as_str()), fields.join(", "))]
    InvoiceConflict {
        /// The external id.
        external_id: Option<ExternalId>,
        /// The existing invoice.
        id: InvoiceId,
        /// The fields that differ.
        fields: Vec<&'static str>,
    },
    /// The idempotency key was used by a different request.
    #[error("idempotency key {0} was already used by a different request")]
    KeyReused(IdempotencyKey),
    /// The customer an invoice names does not exist.
    #[error("customer {0} does not exist")]
    UnknownCustomer(String),
    /// An invoice's currency is not its customer's.
    #[error("the invoice is in {invoice} but customer {customer} is billed in {customer_currency}")]
    CurrencyMismatch {
        /// The invoice's currency.
        invoice: Currency,
        /// The customer.
        customer: String,
        /// The customer's currency.
        customer_currency: Currency,
    },
    /// A customer's currency cannot change once it has invoices.
    #[error("customer {0} has invoices: its currency cannot change")]
    CurrencyLocked(CustomerId),
    /// A refund that cannot be made: the invoice is not paid, or less is left than asked.
    #[error("{0}")]
    RefundRefused(String),
    /// The payment provider will never charge this amount (under its minimum, over its
    /// maximum).
    #[error("{0}")]
    AmountNotChargeable(String),
    /// A value the request gave is not acceptable (e.g. an amount that is not positive).
    #[error("{0}")]
    Invalid(String),
    /// The provider's webhooks are not configured here (no signing secret).
    #[error(
        "the payment provider's webhooks are not configured: set ANTAEUS_STRIPE_WEBHOOK_SECRET"
    )]
    WebhooksOff,
    /// A webhook delivery that did not come from the provider, or cannot be read.
    #[error(transparent)]
    WebhookRejected(#[from] crate::provider_events::WebhookRejected),
    /// Starting a run failed.
    #[error(transparent)]
    Billing(#[from] crate::billing::BillingError),
    /// Storage failed; the operation may succeed later.
    #[error(transparent)]
    Store(#[from] StoreError),
}
