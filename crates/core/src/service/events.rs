use std::sync::Arc;

use antaeus_models::{EventFilter, EventId, EventRecord, EventSeq, PageLimit, PageRequest};

use super::ServiceError;
use crate::Clock;
use crate::store::EventStore;

/// Events a search by type reads per page at most, when no invoice narrows it: the outbox keeps
/// every event and has no index by type, so a rare type would otherwise be looked for through
/// the whole outbox on every request.
pub const TYPE_SEARCH_WINDOW: i64 = 100_000;

/// One page of an event listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    /// The events, in `seq` order.
    pub events: Vec<EventRecord>,
    /// Where the next page starts (its `after`), when there may be one: after the last event of
    /// a full page, or after the window a search by type ended at.
    pub next: Option<EventSeq>,
}

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

    /// One page of the events matching `filter`, in `seq` order, with where the next page
    /// starts. A search by type without an invoice reads [`TYPE_SEARCH_WINDOW`] events at most,
    /// so its page may come back short with a next page still to read.
    pub async fn page(
        &self,
        mut filter: EventFilter,
        page: PageRequest<EventSeq>,
    ) -> Result<EventPage, ServiceError> {
        let after = page.after.map_or(0, EventSeq::get);
        let window = (filter.kind.is_some() && filter.invoice_id.is_none())
            .then(|| EventSeq::new(after.saturating_add(TYPE_SEARCH_WINDOW)).ok())
            .flatten();
        filter.up_to = window;
        let events = self.store.list_events(filter, page).await?;
        let next = if events.len() >= usize::from(page.limit.get()) {
            events.last().map(|e| e.seq)
        } else if let Some(end) = window {
            // A short page of a window: more pages only if the outbox goes on past it.
            let beyond = PageRequest {
                after: Some(end),
                limit: PageLimit::new(1).unwrap_or_default(),
            };
            let more = !self
                .store
                .list_events(EventFilter::default(), beyond)
                .await?
                .is_empty();
            more.then_some(end)
        } else {
            None
        };
        Ok(EventPage { events, next })
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

    fn at(seq: i64) -> EventRecord {
        EventRecord {
            seq: EventSeq::new(seq).unwrap(),
            ..pending("evt_x")
        }
    }

    /// A search by type reads one window of the outbox per page: the store is asked for the
    /// events before its end, and a short page says where the next one starts while the outbox
    /// goes on past the window, and that there is none once it does not.
    #[tokio::test]
    async fn a_search_by_type_reads_one_window_per_page() {
        let kind = Some(antaeus_models::EventKind::Refunded);
        let page = PageRequest {
            after: Some(EventSeq::new(5).unwrap()),
            limit: PageLimit::new(10).unwrap(),
        };
        let end = 5 + TYPE_SEARCH_WINDOW;
        for (outbox_goes_on, next) in [(true, Some(end)), (false, None)] {
            let mut store = MockEventStore::new();
            store
                .expect_list_events()
                .withf(move |f, _| f.kind.is_some())
                .times(1)
                .returning(move |f, p| {
                    assert_eq!(
                        f.up_to.map(EventSeq::get),
                        Some(end),
                        "bounded to its window"
                    );
                    assert_eq!(p.after.map(EventSeq::get), Some(5));
                    Ok(vec![at(7)])
                });
            store
                .expect_list_events()
                .withf(move |f, p| {
                    *f == EventFilter::default() && p.after.map(EventSeq::get) == Some(end)
                })
                .times(1)
                .returning(move |_, _| {
                    Ok(if outbox_goes_on {
                        vec![at(end)]
                    } else {
                        vec![]
                    })
                });
            let filter = EventFilter {
                kind,
                ..EventFilter::default()
            };
            let found = service(store).page(filter, page).await.unwrap();
            assert_eq!(found.events.len(), 1);
            assert_eq!(
                found.next.map(EventSeq::get),
                next,
                "outbox goes on: {outbox_goes_on}"
            );
        }
    }

    /// An invoice's events are found through their index: no window, and a full page leads on
    /// from its last event.
    #[tokio::test]
    async fn a_search_by_type_and_invoice_is_not_windowed() {
        let filter = EventFilter {
            kind: Some(antaeus_models::EventKind::Paid),
            invoice_id: Some(antaeus_models::InvoiceId::new(3).unwrap()),
            ..EventFilter::default()
        };
        let page = PageRequest {
            after: None,
            limit: PageLimit::new(2).unwrap(),
        };
        let mut store = MockEventStore::new();
        store
            .expect_list_events()
            .withf(move |f, _| *f == filter)
            .times(1)
            .returning(|_, _| Ok(vec![at(4), at(9)]));
        let found = service(store).page(filter, page).await.unwrap();
        assert_eq!(found.next.map(EventSeq::get), Some(9));
    }

    #[tokio::test]
    async fn a_page_passes_other_filters_and_the_page_to_the_store() {
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
        let got = service(store).page(filter, page).await.unwrap().events;
        assert_eq!(got[0].id, "evt_4");
    }
}
