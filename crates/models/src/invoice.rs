use chrono::{DateTime, Utc};

use crate::{Currency, CustomerId, Dispute, ExternalId, InvoiceId, Money};

string_enum! {
    /// Where an invoice is in its life: PENDING → CHARGING → PAID | FAILED | PENDING again;
    /// PENDING or FAILED → VOID.
    pub enum InvoiceStatus ("invoice status") {
        /// Not paid yet: due once `due_at` has passed (never tried), or at `next_attempt_at`.
        Pending = "PENDING",
        /// Claimed by a billing instance that is charging it now.
        Charging = "CHARGING",
        /// Charged successfully; never charged again.
        Paid = "PAID",
        /// Given up on, with a reason; only an operator's retry makes it due again.
        Failed = "FAILED",
        /// Cancelled by the SaaS before it was paid: never charged, never due again.
        Void = "VOID",
    }
}

string_enum! {
    /// Why an invoice was given up on (FAILED).
    pub enum FailureReason ("failure reason") {
        /// The provider does not know the customer.
        CustomerNotFound = "customer_not_found",
        /// The invoice's currency is not the customer's.
        CurrencyMismatch = "currency_mismatch",
        /// Declined on every attempt of the dunning schedule.
        RetriesExhausted = "retries_exhausted",
        /// The provider saw our idempotency key with another request: a bug to investigate
        /// before anyone retries.
        IdempotencyKeyReused = "idempotency_key_reused",
        /// The customer has no payment method the provider can charge (no provider reference):
        /// nothing was sent; retry once one is added.
        NoPaymentMethod = "no_payment_method",
        /// The provider refuses to charge this amount (under its minimum, e.g. 0.50 EUR for
        /// Stripe, or over its maximum): retrying cannot help.
        AmountNotChargeable = "amount_not_chargeable",
    }
}

/// A bill to one customer for one amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    /// The invoice's id.
    pub id: InvoiceId,
    /// Who owes the amount.
    pub customer_id: CustomerId,
    /// What is owed, in the invoice's currency.
    pub amount: Money,
    /// Where the invoice is in its life.
    pub status: InvoiceStatus,
    /// How many times the payment provider has been called for it.
    pub attempts: u32,
    /// When a PENDING invoice is next due; `None` means due now (never tried, or retried by hand).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why a FAILED invoice was given up on.
    pub failure_reason: Option<FailureReason>,
    /// The SaaS's own id for the invoice (unique per customer).
    pub external_id: Option<ExternalId>,
    /// When it falls due: a monthly run charges it once this has passed.
    pub due_at: DateTime<Utc>,
    /// What it is for, to show operators and customers.
    pub description: Option<String>,
    /// How much of a paid invoice was refunded (zero unless refunds succeeded).
    pub refunded: Money,
    /// The cardholder's dispute of its payment, if there is one.
    pub dispute: Option<Box<Dispute>>,
    /// Payments the provider reported for it beyond the one that paid it: more than zero means
    /// the customer was charged twice and an operator must refund.
    pub extra_charges: u32,
}

impl Invoice {
    /// A new invoice as the original Antaeus knew them: never attempted, nothing scheduled,
    /// due since forever.
    pub fn new(
        id: InvoiceId,
        customer_id: CustomerId,
        amount: Money,
        status: InvoiceStatus,
    ) -> Self {
        Self {
            id,
            customer_id,
            amount,
            status,
            attempts: 0,
            next_attempt_at: None,
            failure_reason: None,
            external_id: None,
            due_at: DateTime::UNIX_EPOCH,
            description: None,
            refunded: amount.zero(),
            dispute: None,
            extra_charges: 0,
        }
    }

    /// What is left to refund: the amount less what was refunded (never below zero).
    pub fn refundable(&self) -> Money {
        self.amount.saturating_sub(self.refunded)
    }
}

/// Which invoices a listing returns; `None` fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    /// Only invoices in this status.
    pub status: Option<InvoiceStatus>,
    /// Only this customer's invoices.
    pub customer_id: Option<CustomerId>,
    /// Only invoices with this external id.
    pub external_id: Option<ExternalId>,
    /// Only invoices in this currency.
    pub currency: Option<Currency>,
    /// Only FAILED invoices given up on for this reason.
    pub failure_reason: Option<FailureReason>,
    /// Only invoices due, or overdue, at a moment.
    pub due: Option<DueFilter>,
    /// Only invoices with an id up to this one: bounds a scan that no index serves to a
    /// window of ids (the console's due and overdue filters).
    pub up_to: Option<InvoiceId>,
    /// Only invoices whose payment is disputed (any dispute, or only open ones).
    pub disputed: Option<DisputeFilter>,
    /// Only invoices the provider reported paid more than once (`extra_charges > 0`);
    /// `false` does not filter.
    pub double_charged: bool,
}

/// Which disputed invoices a listing returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisputeFilter {
    /// Every invoice with a dispute, open or closed.
    Any,
    /// Invoices whose dispute is still open (not in [`crate::Dispute::CLOSED_STATUSES`]).
    Open,
}

/// Which invoices count as due or overdue, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueFilter {
    /// PENDING and chargeable at this moment: a run started then would charge them.
    DueAt(DateTime<Utc>),
    /// Unpaid (PENDING or FAILED) and past their due date at this moment.
    OverdueAt(DateTime<Utc>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        let names: Vec<_> = InvoiceStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["PENDING", "CHARGING", "PAID", "FAILED", "VOID"]);
        for &st in InvoiceStatus::ALL {
            assert_eq!(st.as_str().parse::<InvoiceStatus>(), Ok(st));
        }
        let err = "pending".parse::<InvoiceStatus>().unwrap_err().to_string();
        assert!(
            err.contains("PENDING, CHARGING, PAID, FAILED, VOID"),
            "{err}"
        );
    }

    #[test]
    fn failure_reasons_round_trip() {
        for &r in FailureReason::ALL {
            assert_eq!(r.as_str().parse::<FailureReason>(), Ok(r));
        }
    }
}
