use std::sync::Arc;

use antaeus_models::{
    ChargeAttempt, DueFilter, IdempotencyKey, Invoice, InvoiceFilter, InvoiceId, PageRequest,
};

use super::console::{InvoicePage, bounded_page};
use super::fingerprint::Fingerprint;
use super::text::check_text;
use super::{Created, ServiceError};
use crate::store::{
    AttemptStore, Creation, CustomerRef, InvoiceCreation, InvoiceDraft, InvoiceStore, KeyedRequest,
    RetryOutcome, VoidOutcome,
};
use crate::{AmountLimits, Clock};

/// Which invoices count as due, for [`InvoiceService::page`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// PENDING and chargeable now: a run started now would charge them.
    Now,
    /// Unpaid (PENDING or FAILED) and past their due date.
    Overdue,
}

/// Looks up invoices and their charge attempts; makes failed invoices due again; voids them.
#[derive(Clone)]
pub struct InvoiceService {
    store: Arc<dyn InvoiceStore>,
    attempts: Arc<dyn AttemptStore>,
    clock: Arc<dyn Clock>,
    limits: AmountLimits,
}

impl InvoiceService {
    /// A service reading invoices from `store` and their attempts from `attempts`.
    pub fn new(
        store: Arc<dyn InvoiceStore>,
        attempts: Arc<dyn AttemptStore>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            attempts,
            clock,
            limits: AmountLimits::none(),
        }
    }

    /// The service refusing, when invoices are created, amounts the provider will never charge.
    pub fn with_limits(self, limits: AmountLimits) -> Self {
        Self { limits, ..self }
    }

    /// Every charge attempt of the invoice, oldest first.
    pub async fn attempts(&self, id: InvoiceId) -> Result<Vec<ChargeAttempt>, ServiceError> {
        self.fetch(id).await?;
        Ok(self.attempts.list_attempts(id).await?)
    }

    /// Makes a FAILED invoice, or one not due yet, a retry due now (the next run of either
    /// scope charges it); retrying one that is due already changes nothing. Refused while it is
    /// being charged, once it is paid, and when it is void.
    pub async fn retry(&self, id: InvoiceId) -> Result<Invoice, ServiceError> {
        match self.store.retry_invoice(id, self.clock.now()).await? {
            RetryOutcome::MadeDue(invoice) => {
                log::info!("invoice {id} made due again by an operator");
                Ok(invoice)
            }
            RetryOutcome::AlreadyDue(invoice) => Ok(invoice),
            RetryOutcome::Charging => Err(ServiceError::InvoiceCharging(id)),
            RetryOutcome::Paid => Err(ServiceError::InvoicePaid(id)),
            RetryOutcome::Void => Err(ServiceError::InvoiceVoid(id)),
            RetryOutcome::NotFound => Err(ServiceError::InvoiceNotFound(id)),
        }
    }

    /// Voids a PENDING or FAILED invoice: it is never charged and never due again; voiding a
    /// void one changes nothing. Refused while it is being charged, while its last charge's
    /// outcome is unknown or a payment of it may still complete (it may be charged), and once
    /// it is paid.
    pub async fn void(&self, id: InvoiceId) -> Result<Invoice, ServiceError> {
        match self.store.void_invoice(id, self.clock.now()).await? {
            VoidOutcome::Voided(invoice) => {
                log::info!("invoice {id} voided");
                Ok(invoice)
            }
            VoidOutcome::AlreadyVoid(invoice) => Ok(invoice),
            VoidOutcome::Charging => Err(ServiceError::InvoiceCharging(id)),
            VoidOutcome::Paid => Err(ServiceError::InvoicePaid(id)),
            VoidOutcome::OutcomeUnknown { key, retry_at } => Err(ServiceError::OutcomeUnknown {
                invoice: id,
                key,
                retry_at,
            }),
            VoidOutcome::PaymentMayComplete { reference } => {
                Err(ServiceError::PaymentMayComplete {
                    invoice: id,
                    reference,
                })
            }
            VoidOutcome::NotFound => Err(ServiceError::InvoiceNotFound(id)),
        }
    }

    /// Creates an invoice for an existing customer, in the customer's currency. An invoice of
    /// the customer with the same external id is answered when its fields are the draft's
    /// ([`Created::Found`]) and refused otherwise ([`ServiceError::InvoiceConflict`]); a request
    /// repeated under `key` is answered as it was.
    pub async fn create(
        &self,
        draft: InvoiceDraft,
        key: Option<IdempotencyKey>,
    ) -> Result<Created<Invoice>, ServiceError> {
        validate(&draft)?;
        self.chargeable(&draft)?;
        let draft = stored_form(draft);
        let keyed = key.clone().map(|key| KeyedRequest {
            key,
            fingerprint: fingerprint(&draft),
        });
        let created = self
            .store
            .create_invoice(&draft, keyed, self.clock.now())
            .await?;
        let created = answer(&draft, created, key)?;
        if let Created::New(invoice) = &created {
            log::info!("invoice {} created", invoice.id);
        }
        Ok(created)
    }

    /// Creates many invoices at once, in one transaction (the batch endpoint, bulk imports):
    /// one result per draft, in order, each as [`InvoiceService::create`] would answer it.
    pub async fn create_many(
        &self,
        drafts: &[InvoiceDraft],
    ) -> Result<Vec<Result<Created<Invoice>, ServiceError>>, ServiceError> {
        let mut results: Vec<Option<Result<Created<Invoice>, ServiceError>>> = drafts
            .iter()
            .map(|d| validate(d).and_then(|()| self.chargeable(d)).err().map(Err))
            .collect();
        let drafts: Vec<InvoiceDraft> = drafts.iter().cloned().map(stored_form).collect();
        // Usually every draft is valid, and they go to storage as they are.
        let some_invalid: Vec<InvoiceDraft>;
        let valid: &[InvoiceDraft] = if results.iter().all(Option::is_none) {
            &drafts
        } else {
            some_invalid = drafts
                .iter()
                .zip(&results)
                .filter(|(_, r)| r.is_none())
                .map(|(d, _)| d.clone())
                .collect();
            &some_invalid
        };
        let mut outcomes = if valid.is_empty() {
            Vec::new()
        } else {
            self.store.create_invoices(valid, self.clock.now()).await?
        }
        .into_iter();
        for (draft, result) in drafts.iter().zip(results.iter_mut()) {
            if result.is_none() {
                let outcome = outcomes.next().ok_or_else(|| {
                    ServiceError::Invalid("storage answered fewer outcomes than drafts".into())
                })?;
                *result = Some(answer(draft, outcome, None));
            }
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// The invoice with this id, or [`ServiceError::InvoiceNotFound`].
    pub async fn fetch(&self, id: InvoiceId) -> Result<Invoice, ServiceError> {
        self.store
            .fetch_invoice(id)
            .await?
            .ok_or(ServiceError::InvoiceNotFound(id))
    }

    /// One page of the invoices matching `filter` and, when given, due or overdue now, ordered
    /// by id: the console's reading (a due or overdue filter searches a window of ids per page,
    /// so a page may come back short with a next page to read).
    pub async fn page(
        &self,
        mut filter: InvoiceFilter,
        due: Option<Due>,
        page: PageRequest<InvoiceId>,
    ) -> Result<InvoicePage, ServiceError> {
        let now = self.clock.now();
        filter.due = due.map(|due| match due {
            Due::Now => DueFilter::DueAt(now),
            Due::Overdue => DueFilter::OverdueAt(now),
        });
        bounded_page(self.store.as_ref(), filter, page.after, page.limit).await
    }

    /// One page of the invoices matching `filter`, ordered by id.
    pub async fn list(
        &self,
        filter: InvoiceFilter,
        page: PageRequest<InvoiceId>,
    ) -> Result<Vec<Invoice>, ServiceError> {
        Ok(self.store.list_invoices(filter, page).await?)
    }
}

impl InvoiceService {
    /// Refuses an amount the provider will never charge.
    fn chargeable(&self, draft: &InvoiceDraft) -> Result<(), ServiceError> {
        match self.limits.refusal(draft.amount) {
            Some(why) => Err(ServiceError::AmountNotChargeable(why)),
            None => Ok(()),
        }
    }
}

/// Refuses what storage need not see: an amount that is not positive, a blank description.
fn validate(draft: &InvoiceDraft) -> Result<(), ServiceError> {
    if draft.amount.to_minor() <= 0 {
        return Err(ServiceError::Invalid(format!(
            "amount {} must be greater than zero",
            draft.amount
        )));
    }
    if draft
        .description
        .as_ref()
        .is_some_and(|d| d.len() > MAX_DESCRIPTION)
    {
        return Err(ServiceError::Invalid(format!(
            "description is longer than {MAX_DESCRIPTION} bytes"
        )));
    }
    check_text("description", draft.description.as_deref())
}

/// The draft as storage keeps it: times to the microsecond, so that posting the same draft
/// again compares equal to what was stored.
fn stored_form(mut draft: InvoiceDraft) -> InvoiceDraft {
    draft.due_at = draft.due_at.map(crate::store::stored_instant);
    draft
}

/// The longest description kept.
pub const MAX_DESCRIPTION: usize = 1_000;

/// What storage did with `draft` (made under `key`, if any), as the caller sees it.
fn answer(
    draft: &InvoiceDraft,
    created: InvoiceCreation,
    key: Option<IdempotencyKey>,
) -> Result<Created<Invoice>, ServiceError> {
    match created {
        InvoiceCreation::Done(Creation::Created(invoice)) => Ok(Created::New(invoice)),
        InvoiceCreation::Done(Creation::Existing(invoice) | Creation::Replayed(invoice)) => {
            same_invoice(draft, &invoice)?;
            Ok(Created::Found(invoice))
        }
        InvoiceCreation::Done(Creation::KeyReused) => Err(match key {
            Some(key) => ServiceError::KeyReused(key),
            None => ServiceError::Invalid("storage refused a key the request did not carry".into()),
        }),
        InvoiceCreation::CustomerNotFound => Err(ServiceError::UnknownCustomer(customer_name(
            &draft.customer,
        ))),
        InvoiceCreation::CurrencyMismatch { customer_currency } => {
            Err(ServiceError::CurrencyMismatch {
                invoice: draft.amount.currency(),
                customer: customer_name(&draft.customer),
                customer_currency,
            })
        }
    }
}

fn customer_name(customer: &CustomerRef) -> String {
    match customer {
        CustomerRef::Id(id) => id.to_string(),
        CustomerRef::External(external) => external.to_string(),
    }
}

/// What a create-invoice request asked for.
fn fingerprint(d: &InvoiceDraft) -> String {
    let (id, external) = match &d.customer {
        CustomerRef::Id(id) => (Some(id.to_string()), None),
        CustomerRef::External(e) => (None, Some(e.as_str())),
    };
    Fingerprint::of("invoice")
        .field("customerId", id)
        .field("customerExternalId", external)
        .field("amount", Some(d.amount))
        .field("externalId", d.external_id.as_ref())
        .field("dueAt", d.due_at.map(|t| t.to_rfc3339()))
        .field("description", d.description.as_ref())
        .finish()
}

/// `Ok` when `existing` has what `draft` asks for (a draft without a due date takes the
/// existing one), else the conflict naming the fields that differ.
fn same_invoice(draft: &InvoiceDraft, existing: &Invoice) -> Result<(), ServiceError> {
    let mut differ = Vec::new();
    if draft.amount != existing.amount {
        differ.push("amount");
    }
    if draft.due_at.is_some_and(|due| due != existing.due_at) {
        differ.push("dueAt");
    }
    if draft.description != existing.description {
        differ.push("description");
    }
    if differ.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::InvoiceConflict {
            external_id: existing.external_id.clone(),
            id: existing.id,
            fields: differ,
        })
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, CustomerId, InvoiceStatus, Money, PageLimit};

    use super::*;
    use crate::store::{MockAttemptStore, MockInvoiceStore};

    fn service(store: MockInvoiceStore) -> InvoiceService {
        InvoiceService::new(
            Arc::new(store),
            Arc::new(MockAttemptStore::new()),
            Arc::new(crate::ManualClock::new(chrono::DateTime::UNIX_EPOCH)),
        )
    }

    fn invoice(id: i64) -> Invoice {
        Invoice::new(
            InvoiceId::new(id).unwrap(),
            CustomerId::new(1).unwrap(),
            Money::from_minor(1000, Currency::EUR).unwrap(),
            InvoiceStatus::Pending,
        )
    }

    #[tokio::test]
    async fn fetch_of_an_unknown_id_is_invoice_not_found() {
        let mut store = MockInvoiceStore::new();
        store.expect_fetch_invoice().returning(|_| Ok(None));
        let err = service(store)
            .fetch(InvoiceId::new(3).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::InvoiceNotFound(i) if i.get() == 3));
    }

    #[tokio::test]
    async fn list_passes_filter_and_page_to_the_store() {
        let filter = InvoiceFilter {
            status: Some(InvoiceStatus::Pending),
            customer_id: Some(CustomerId::new(4).unwrap()),
            ..InvoiceFilter::default()
        };
        let page = PageRequest {
            after: Some(InvoiceId::new(10).unwrap()),
            limit: PageLimit::new(2).unwrap(),
        };
        let mut store = MockInvoiceStore::new();
        let expected = filter.clone();
        store
            .expect_list_invoices()
            .withf(move |f, p| *f == expected && *p == page)
            .returning(|_, _| Ok(vec![invoice(11), invoice(12)]));
        let got = service(store).list(filter, page).await.unwrap();
        assert_eq!(got.iter().map(|i| i.id.get()).collect::<Vec<_>>(), [11, 12]);
    }

    async fn retried(outcome: RetryOutcome) -> Result<Invoice, ServiceError> {
        let mut store = MockInvoiceStore::new();
        store
            .expect_retry_invoice()
            .return_once(move |_, _| Ok(outcome));
        service(store).retry(InvoiceId::new(4).unwrap()).await
    }

    #[tokio::test]
    async fn retry_refuses_charging_and_paid_invoices_and_reports_unknown_ones() {
        assert!(retried(RetryOutcome::MadeDue(invoice(4))).await.is_ok());
        assert!(retried(RetryOutcome::AlreadyDue(invoice(4))).await.is_ok());
        assert!(matches!(
            retried(RetryOutcome::Charging).await,
            Err(ServiceError::InvoiceCharging(_))
        ));
        assert!(matches!(
            retried(RetryOutcome::Paid).await,
            Err(ServiceError::InvoicePaid(_))
        ));
        assert!(matches!(
            retried(RetryOutcome::NotFound).await,
            Err(ServiceError::InvoiceNotFound(_))
        ));
    }
}
