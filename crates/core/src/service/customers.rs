use std::sync::Arc;

use antaeus_models::{Customer, CustomerId, ExternalId, IdempotencyKey, PageRequest};

use super::ServiceError;
use super::fingerprint::Fingerprint;
use super::text::check_text;
use crate::Clock;
use crate::store::{
    Creation, CustomerChanges, CustomerStore, CustomerUpdate, CustomerUpsert, KeyedRequest,
    NewCustomer, Upserted,
};

/// Whether a create request made a new resource or found the one it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created<T> {
    /// Made now (the API answers 201).
    New(T),
    /// Found: the same external id with the same fields, or a repeated request under the same
    /// idempotency key (the API answers 200).
    Found(T),
}

impl<T> Created<T> {
    /// The resource, whichever case.
    pub fn into_inner(self) -> T {
        match self {
            Created::New(t) | Created::Found(t) => t,
        }
    }

    /// Whether it was made now.
    pub fn is_new(&self) -> bool {
        matches!(self, Created::New(_))
    }
}

/// Looks up, creates and updates customers.
#[derive(Clone)]
pub struct CustomerService {
    store: Arc<dyn CustomerStore>,
    clock: Arc<dyn Clock>,
}

impl CustomerService {
    /// A service on `store`.
    pub fn new(store: Arc<dyn CustomerStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// The customer with this id, or [`ServiceError::CustomerNotFound`].
    pub async fn fetch(&self, id: CustomerId) -> Result<Customer, ServiceError> {
        self.store
            .fetch_customer(id)
            .await?
            .ok_or(ServiceError::CustomerNotFound(id))
    }

    /// One page of customers, ordered by id.
    pub async fn list(&self, page: PageRequest<CustomerId>) -> Result<Vec<Customer>, ServiceError> {
        Ok(self.store.list_customers(page).await?)
    }

    /// The customer with this external id, if any.
    pub async fn find(&self, external_id: &ExternalId) -> Result<Option<Customer>, ServiceError> {
        Ok(self.store.find_customer(external_id).await?)
    }

    /// Creates a customer. A customer with the same external id is answered when its fields
    /// are the request's ([`Created::Found`]) and refused otherwise
    /// ([`ServiceError::CustomerConflict`]); a request repeated under `key` is answered as it
    /// was, and a different request under a used key is [`ServiceError::KeyReused`].
    pub async fn create(
        &self,
        customer: NewCustomer,
        key: Option<IdempotencyKey>,
    ) -> Result<Created<Customer>, ServiceError> {
        check_customer(&customer)?;
        let keyed = key.clone().map(|key| KeyedRequest {
            key,
            fingerprint: fingerprint(&customer),
        });
        let created = self
            .store
            .create_customer(&customer, keyed, self.clock.now())
            .await?;
        match created {
            Creation::Created(c) => {
                log::info!("customer {} created", c.id);
                Ok(Created::New(c))
            }
            Creation::Existing(c) => {
                same_customer(&customer, &c)?;
                Ok(Created::Found(c))
            }
            // The key's fingerprint matched: this is the request that created it, answered
            // as it was even if the customer has been changed since.
            Creation::Replayed(c) => Ok(Created::Found(c)),
            Creation::KeyReused => match key {
                Some(key) => Err(ServiceError::KeyReused(key)),
                None => Err(ServiceError::Invalid(
                    "storage refused a key the request did not carry".into(),
                )),
            },
        }
    }

    /// Changes a customer's name, email, provider references, or (while it has no invoice)
    /// currency.
    pub async fn update(
        &self,
        id: CustomerId,
        changes: CustomerChanges,
    ) -> Result<Customer, ServiceError> {
        if changes.is_empty() {
            return self.fetch(id).await;
        }
        check_fields([
            given(&changes.name),
            given(&changes.email),
            given(&changes.provider_customer_ref),
            given(&changes.provider_payment_method_ref),
        ])?;
        match self.store.update_customer(id, &changes).await? {
            CustomerUpdate::Updated(c) => Ok(c),
            CustomerUpdate::CurrencyLocked(_) => Err(ServiceError::CurrencyLocked(id)),
            CustomerUpdate::NotFound => Err(ServiceError::CustomerNotFound(id)),
        }
    }

    /// Creates or updates customers by external id, in one transaction (a bulk import): one
    /// result per row, in order. A known customer takes the fields its row gives and keeps the
    /// others; a row whose currency differs from the stored customer's is
    /// [`ServiceError::CustomerConflict`] and changes nothing.
    pub async fn upsert(
        &self,
        customers: &[CustomerUpsert],
    ) -> Result<Vec<Result<Upserted<Customer>, ServiceError>>, ServiceError> {
        let checked: Vec<Result<(), ServiceError>> = customers.iter().map(check_upsert).collect();
        let valid: Vec<CustomerUpsert> = customers
            .iter()
            .zip(&checked)
            .filter(|(_, c)| c.is_ok())
            .map(|(row, _)| row.clone())
            .collect();
        let mut outcomes = if valid.is_empty() {
            Vec::new()
        } else {
            self.store.upsert_customers(&valid).await?
        }
        .into_iter();
        let mut results = Vec::with_capacity(customers.len());
        for (row, check) in customers.iter().zip(checked) {
            if let Err(err) = check {
                results.push(Err(err));
                continue;
            }
            let Some(outcome) = outcomes.next() else {
                return Err(ServiceError::Invalid(
                    "storage answered fewer outcomes than rows".into(),
                ));
            };
            results.push(match outcome {
                Upserted::Unchanged(c) if c.currency != row.currency => {
                    Err(conflict(&c, vec!["currency"]))
                }
                outcome => Ok(outcome),
            });
        }
        Ok(results)
    }
}

/// Refuses text storage would choke on.
fn check_customer(c: &NewCustomer) -> Result<(), ServiceError> {
    check_fields([
        c.name.as_deref(),
        c.email.as_deref(),
        c.provider.customer_ref.as_deref(),
        c.provider.payment_method_ref.as_deref(),
    ])
}

/// Refuses an upsert row whose text storage would choke on.
fn check_upsert(c: &CustomerUpsert) -> Result<(), ServiceError> {
    check_fields([
        given(&c.name),
        given(&c.email),
        given(&c.provider_customer_ref),
        given(&c.provider_payment_method_ref),
    ])
}

/// Checks a customer's name, email, customerRef and paymentMethodRef, in that order.
fn check_fields(values: [Option<&str>; 4]) -> Result<(), ServiceError> {
    let names = ["name", "email", "customerRef", "paymentMethodRef"];
    names
        .into_iter()
        .zip(values)
        .try_for_each(|(name, value)| check_text(name, value))
}

/// The value a change or an upsert row gives, if it gives one that is not empty.
fn given(field: &Option<Option<String>>) -> Option<&str> {
    field.as_ref().and_then(Option::as_deref)
}

/// What a create-customer request asked for.
fn fingerprint(c: &NewCustomer) -> String {
    Fingerprint::of("customer")
        .field("currency", Some(c.currency))
        .field("externalId", c.external_id.as_ref())
        .field("name", c.name.as_ref())
        .field("email", c.email.as_ref())
        .field("customerRef", c.provider.customer_ref.as_ref())
        .field("paymentMethodRef", c.provider.payment_method_ref.as_ref())
        .finish()
}

/// `Ok` when `existing` has the fields `asked` for, else the conflict naming those that differ.
fn same_customer(asked: &NewCustomer, existing: &Customer) -> Result<(), ServiceError> {
    let mut differ = Vec::new();
    if asked.currency != existing.currency {
        differ.push("currency");
    }
    if asked.name != existing.name {
        differ.push("name");
    }
    if asked.email != existing.email {
        differ.push("email");
    }
    if asked.provider != existing.provider {
        differ.push("provider");
    }
    if differ.is_empty() {
        Ok(())
    } else {
        Err(conflict(existing, differ))
    }
}

fn conflict(existing: &Customer, fields: Vec<&'static str>) -> ServiceError {
    ServiceError::CustomerConflict {
        external_id: existing.external_id.clone(),
        id: existing.id,
        fields,
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{Currency, ProviderRefs};
    use chrono::DateTime;

    use super::*;
    use crate::ManualClock;
    use crate::store::{MockCustomerStore, StoreError};

    fn id(n: i64) -> CustomerId {
        CustomerId::new(n).unwrap()
    }

    fn service(store: MockCustomerStore) -> CustomerService {
        CustomerService::new(
            Arc::new(store),
            Arc::new(ManualClock::new(DateTime::UNIX_EPOCH)),
        )
    }

    fn acme() -> NewCustomer {
        NewCustomer {
            currency: Currency::EUR,
            external_id: Some(ExternalId::parse("acme-42").unwrap()),
            name: Some("Acme".into()),
            email: None,
            provider: ProviderRefs::default(),
        }
    }

    fn stored(new: &NewCustomer) -> Customer {
        Customer {
            external_id: new.external_id.clone(),
            name: new.name.clone(),
            email: new.email.clone(),
            provider: new.provider.clone(),
            ..Customer::new(id(1), new.currency)
        }
    }

    #[tokio::test]
    async fn fetch_returns_the_stored_customer() {
        let mut store = MockCustomerStore::new();
        store
            .expect_fetch_customer()
            .withf(|i| i.get() == 7)
            .returning(|i| Ok(Some(Customer::new(i, Currency::SEK))));
        let got = service(store).fetch(id(7)).await;
        assert_eq!(got.unwrap().currency, Currency::SEK);
    }

    #[tokio::test]
    async fn fetch_of_an_unknown_id_is_customer_not_found() {
        let mut store = MockCustomerStore::new();
        store.expect_fetch_customer().returning(|_| Ok(None));
        let err = service(store).fetch(id(9)).await.unwrap_err();
        assert!(matches!(err, ServiceError::CustomerNotFound(i) if i == id(9)));
    }

    #[tokio::test]
    async fn storage_failures_surface_as_store_errors() {
        let mut store = MockCustomerStore::new();
        store
            .expect_list_customers()
            .returning(|_| Err(StoreError::Corrupt("bad row".into())));
        let err = service(store)
            .list(PageRequest::default())
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::Store(StoreError::Corrupt(_))));
    }

    #[tokio::test]
    async fn the_same_external_id_with_the_same_fields_is_found_and_with_others_refused() {
        let mut store = MockCustomerStore::new();
        store
            .expect_create_customer()
            .returning(|asked, _, _| Ok(Creation::Existing(stored(asked))));
        let service = service(store);
        let found = service.create(acme(), None).await.unwrap();
        assert!(!found.is_new());

        let mut store = MockCustomerStore::new();
        store.expect_create_customer().returning(|asked, _, _| {
            Ok(Creation::Existing(Customer {
                name: Some("Other".into()),
                ..stored(asked)
            }))
        });
        let err = CustomerService::new(
            Arc::new(store),
            Arc::new(ManualClock::new(DateTime::UNIX_EPOCH)),
        )
        .create(acme(), None)
        .await
        .unwrap_err();
        assert!(
            matches!(&err, ServiceError::CustomerConflict { fields, .. } if fields == &["name"]),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_replay_answers_the_customer_it_made_even_once_changed() {
        let mut store = MockCustomerStore::new();
        store.expect_create_customer().returning(|asked, _, _| {
            Ok(Creation::Replayed(Customer {
                name: Some("Renamed since".into()),
                ..stored(asked)
            }))
        });
        let replayed = service(store)
            .create(acme(), Some(IdempotencyKey::parse("k-1").unwrap()))
            .await
            .unwrap();
        assert!(
            matches!(replayed, Created::Found(c) if c.name.as_deref() == Some("Renamed since"))
        );
    }

    #[tokio::test]
    async fn a_key_carries_the_requests_fingerprint_and_a_reused_one_is_refused() {
        let mut store = MockCustomerStore::new();
        store
            .expect_create_customer()
            .withf(|_, keyed, _| {
                keyed
                    .as_ref()
                    .is_some_and(|k| k.key.as_str() == "k-1" && k.fingerprint.contains("acme-42"))
            })
            .returning(|_, _, _| Ok(Creation::KeyReused));
        let err = service(store)
            .create(acme(), Some(IdempotencyKey::parse("k-1").unwrap()))
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::KeyReused(k) if k.as_str() == "k-1"));
    }

    #[tokio::test]
    async fn an_upsert_refuses_a_currency_change_row_by_row() {
        let mut store = MockCustomerStore::new();
        store.expect_upsert_customers().returning(|_| {
            Ok(vec![
                Upserted::Created(stored(&acme())),
                Upserted::Unchanged(Customer::new(id(2), Currency::DKK)),
            ])
        });
        let rows = vec![acme().into(), acme().into()];
        let results = service(store).upsert(&rows).await.unwrap();
        assert!(matches!(results[0], Ok(Upserted::Created(_))));
        assert!(matches!(
            &results[1],
            Err(ServiceError::CustomerConflict { fields, .. }) if fields == &["currency"]
        ));
    }
}
