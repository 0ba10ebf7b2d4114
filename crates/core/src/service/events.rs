use std::sync::Arc;

use antaeus_models::{EventFilter, EventId, EventRecord, EventSeq, PageRequest};

use super::ServiceError;
use crate::Clock;
use crate::store::EventStore;

/// Lists outbox events and re-queues them for delivery.
#[derive(Clone)]
pub struct EventService {
    store: Arc<dyn EventStore>,
    clock: Arc<dyn Clock>,
}

impl EventService {
    /// A service over `store`, re-queueing events as due at `clock`'s now.
    pub fn new(store: Arc<dyn EventStore>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    /// One page of the events matching `filter`, in the order they were written.
    pub async fn list(
        &self,
        filter: EventFilter,
        page: PageRequest<EventSeq>,
    ) -> Result<Vec<EventRecord>, ServiceError> {
        Ok(self.store.list_events(filter, page).await?)
    }

    /// Re-queues the event: pending, due now, its failure count reset. A dead event is
    /// delivered again; so is a delivered one (receivers deduplicate by id); a pending one is
    /// made due now and given its full number of tries.
    pub async fn redeliver(&self, id: &EventId) -> Result<EventRecord, ServiceError> {
        let redelivered = self
            .store
            .redeliver_event(id, self.clock.now())
            .await?
            .ok_or_else(|| ServiceError::EventNotFound(id.clone()))?;
        log::info!(
            "event {id} ({}) re-queued by an operator; it was {}",
            redelivered.event.kind,
            redelivered.was
        );
        Ok(redelivered.event)
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{EventStatus, PageLimit};

    use super::*;
    use crate::ManualClock;
    use crate::clock::test_start as now;
    use crate::store::{MockEventStore, Redelivered};

    fn service(store: MockEventStore) -> EventService {
        EventService::new(Arc::new(store), Arc::new(ManualClock::new(now())))
    }

    fn pending(id: &str) -> EventRecord {
        EventRecord {
            seq: EventSeq::new(7).unwrap(),
            id: id.into(),
            kind: "run.completed".into(),
            created_at: now(),
            status: EventStatus::Pending,
            failures: 0,
            last_error: None,
            next_attempt_at: Some(now()),
            delivered_at: None,
            dead_at: None,
            payload: "{}".into(),
        }
    }

    #[tokio::test]
    async fn redelivering_requeues_as_of_now_and_returns_the_pending_event() {
        let mut store = MockEventStore::new();
        store
            .expect_redeliver_event()
            .withf(|id, at| id.as_str() == "evt_1" && *at == now())
            .returning(|id, _| {
                Ok(Some(Redelivered {
                    event: pending(id.as_str()),
                    was: EventStatus::Dead,
                }))
            });
        let event = service(store)
            .redeliver(&EventId::parse("evt_1").unwrap())
            .await
            .unwrap();
        assert_eq!((event.status, event.failures), (EventStatus::Pending, 0));
    }

    #[tokio::test]
    async fn redelivering_an_unknown_event_is_event_not_found() {
        let mut store = MockEventStore::new();
        store.expect_redeliver_event().returning(|_, _| Ok(None));
        let err = service(store)
            .redeliver(&EventId::parse("evt_nope").unwrap())
            .await
            .unwrap_err();
        assert!(matches!(err, ServiceError::EventNotFound(id) if id.as_str() == "evt_nope"));
    }

    #[tokio::test]
    async fn list_passes_filter_and_page_to_the_store() {
        let filter = EventFilter {
            status: Some(EventStatus::Dead),
            ..EventFilter::default()
        };
        let page = PageRequest {
            after: Some(EventSeq::new(3).unwrap()),
            limit: PageLimit::new(2).unwrap(),
        };
        let mut store = MockEventStore::new();
        store
            .expect_list_events()
            .withf(move |f, p| *f == filter && *p == page)
            .returning(|_, _| Ok(vec![pending("evt_4")]));
        let got = service(store).list(filter, page).await.unwrap();
        assert_eq!(got[0].id, "evt_4");
    }
}
