use std::sync::Arc;

use antaeus_models::{ChargeAttempt, Invoice, InvoiceFilter, InvoiceId, PageRequest};

use super::ServiceError;
use crate::Clock;
use crate::store::{AttemptStore, InvoiceStore, RetryOutcome, VoidOutcome};

/// Looks up invoices and their charge attempts; makes failed invoices due again; voids them.
#[derive(Clone)]
pub struct InvoiceService {
    store: Arc<dyn InvoiceStore>,
    attempts: Arc<dyn AttemptStore>,
    clock: Arc<dyn Clock>,
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
        }
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
    /// void one changes nothing. Refused while it is being charged (it may be charged) and
    /// once it is paid.
    pub async fn void(&self, id: InvoiceId) -> Result<Invoice, ServiceError> {
        match self.store.void_invoice(id, self.clock.now()).await? {
            VoidOutcome::Voided(invoice) => {
                log::info!("invoice {id} voided");
                Ok(invoice)
            }
            VoidOutcome::AlreadyVoid(invoice) => Ok(invoice),
            VoidOutcome::Charging => Err(ServiceError::InvoiceCharging(id)),
            VoidOutcome::Paid => Err(ServiceError::InvoicePaid(id)),
            VoidOutcome::NotFound => Err(ServiceError::InvoiceNotFound(id)),
        }
    }

    /// The invoice with this id, or [`ServiceError::InvoiceNotFound`].
    pub async fn fetch(&self, id: InvoiceId) -> Result<Invoice, ServiceError> {
        self.store
            .fetch_invoice(id)
            .await?
            .ok_or(ServiceError::InvoiceNotFound(id))
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
            external_id: None,
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
