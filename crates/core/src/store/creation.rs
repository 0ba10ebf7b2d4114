//! What creating customers and invoices asks of storage, and what it answers.

use antaeus_models::{
    Currency, CustomerId, ExternalId, IdempotencyKey, Invoice, Money, ProviderRefs,
};
use chrono::{DateTime, TimeDelta, Timelike, Utc};

/// `instant` as storage keeps it: to the microsecond, and a leap second (`23:59:60`, which
/// chrono can hold) as the start of the next second, as PostgreSQL keeps it. Stores answer what
/// they read back, and a draft is compared with a stored invoice in this form.
pub fn stored_instant(instant: DateTime<Utc>) -> DateTime<Utc> {
    let nanos = instant.nanosecond();
    let next_second = instant
        .with_nanosecond(0)
        .and_then(|start| start.checked_add_signed(TimeDelta::seconds(1)));
    let (second, nanos) = match next_second {
        Some(next) if nanos >= 1_000_000_000 => (next, nanos - 1_000_000_000),
        _ => (instant, nanos),
    };
    second
        .with_nanosecond(nanos / 1_000 * 1_000)
        .unwrap_or(second)
}

/// A customer to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    /// The currency the customer is billed in.
    pub currency: Currency,
    /// The SaaS's own id for the customer (unique): creating it twice finds the first.
    pub external_id: Option<ExternalId>,
    /// A name to show operators.
    pub name: Option<String>,
    /// Where the customer is reached.
    pub email: Option<String>,
    /// What the payment provider needs to charge the customer.
    pub provider: ProviderRefs,
}

/// A row of a bulk upsert by external id. An optional field is `None` when the row does not
/// give it (a known customer keeps its value, a new one has none) and `Some(None)` when the row
/// gives it empty (a known customer's value is cleared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerUpsert {
    /// The currency the customer is billed in; a known customer's never changes.
    pub currency: Currency,
    /// The SaaS's own id for the customer; a row without one always creates a customer.
    pub external_id: Option<ExternalId>,
    /// A name to show operators.
    pub name: Option<Option<String>>,
    /// Where the customer is reached.
    pub email: Option<Option<String>>,
    /// The payment provider's customer reference.
    pub provider_customer_ref: Option<Option<String>>,
    /// The payment provider's payment method reference.
    pub provider_payment_method_ref: Option<Option<String>>,
}

impl From<NewCustomer> for CustomerUpsert {
    /// A row that gives every field: a known customer takes them all.
    fn from(c: NewCustomer) -> Self {
        Self {
            currency: c.currency,
            external_id: c.external_id,
            name: Some(c.name),
            email: Some(c.email),
            provider_customer_ref: Some(c.provider.customer_ref),
            provider_payment_method_ref: Some(c.provider.payment_method_ref),
        }
    }
}

/// Changes to a customer; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerChanges {
    /// A new name.
    pub name: Option<Option<String>>,
    /// A new email address.
    pub email: Option<Option<String>>,
    /// A new provider customer reference.
    pub provider_customer_ref: Option<Option<String>>,
    /// A new provider payment method reference.
    pub provider_payment_method_ref: Option<Option<String>>,
    /// A new currency: only while the customer has no invoice.
    pub currency: Option<Currency>,
}

impl CustomerChanges {
    /// Whether nothing is asked to change.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// What updating a customer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerUpdate {
    /// The customer as it is now.
    Updated(antaeus_models::Customer),
    /// The currency cannot change: the customer has invoices in it.
    CurrencyLocked(antaeus_models::Customer),
    /// No customer has this id.
    NotFound,
}

/// The customer an invoice is for: by Antaeus id, or by the SaaS's own id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CustomerRef {
    /// Antaeus' id.
    Id(CustomerId),
    /// The SaaS's id for the customer.
    External(ExternalId),
}

/// An invoice to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceDraft {
    /// Whose invoice it is.
    pub customer: CustomerRef,
    /// What is owed; its currency must be the customer's.
    pub amount: Money,
    /// The SaaS's own id for the invoice (unique per customer): creating it twice finds the
    /// first.
    pub external_id: Option<ExternalId>,
    /// When it falls due; `None`: at creation.
    pub due_at: Option<DateTime<Utc>>,
    /// What it is for.
    pub description: Option<String>,
}

/// A request made under an `Idempotency-Key`: the key, and what the request asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRequest {
    /// The client's key.
    pub key: IdempotencyKey,
    /// Identifies what was asked (see `service::Fingerprint`).
    pub fingerprint: String,
}

/// What creating a resource did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Creation<T> {
    /// It was created.
    Created(T),
    /// One with the same external id exists (its fields may differ from the request's).
    Existing(T),
    /// The idempotency key was used by the same request before: what that request created or
    /// found.
    Replayed(T),
    /// The idempotency key was used by a different request.
    KeyReused,
}

/// What upserting a resource by its external id did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted<T> {
    /// It was created.
    Created(T),
    /// It existed, and the row changed at least one of its fields.
    Updated(T),
    /// It existed and is as it was: the row gave what it holds, or a currency it cannot take
    /// (the caller reports that conflict).
    Unchanged(T),
}

impl<T> Upserted<T> {
    /// The resource, whichever case.
    pub fn get(&self) -> &T {
        match self {
            Self::Created(t) | Self::Updated(t) | Self::Unchanged(t) => t,
        }
    }

    /// The same case, of `f`'s answer for the resource.
    pub fn try_map<U, E>(self, f: impl FnOnce(T) -> Result<U, E>) -> Result<Upserted<U>, E> {
        Ok(match self {
            Self::Created(t) => Upserted::Created(f(t)?),
            Self::Updated(t) => Upserted::Updated(f(t)?),
            Self::Unchanged(t) => Upserted::Unchanged(f(t)?),
        })
    }
}

/// What creating an invoice did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvoiceCreation {
    /// Created, found by external id, or replayed (see [`Creation`]).
    Done(Creation<Invoice>),
    /// The customer it names does not exist.
    CustomerNotFound,
    /// Its currency is not its customer's.
    CurrencyMismatch {
        /// The customer's currency.
        customer_currency: Currency,
    },
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn an_instant_is_kept_to_the_microsecond_and_a_leap_second_as_the_next_second() {
        let at = |h, m, s, nanos| {
            NaiveDate::from_ymd_opt(2016, 12, 31)
                .unwrap()
                .and_hms_nano_opt(h, m, s, nanos)
                .unwrap()
                .and_utc()
        };
        assert_eq!(
            stored_instant(at(10, 11, 12, 123_456_789)),
            at(10, 11, 12, 123_456_000)
        );
        assert_eq!(
            stored_instant(at(23, 59, 59, 1_250_000_999)).to_rfc3339(),
            "2017-01-01T00:00:00.250+00:00"
        );
        let stored = at(10, 11, 12, 5_000);
        assert_eq!(
            stored_instant(stored),
            stored,
            "a stored instant is its own"
        );
    }
}
