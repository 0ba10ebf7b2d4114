//! Delivers outbox events with retries, so that neither a crash nor a receiver outage loses one,
//! and sets aside (dead) an event that keeps failing, so that it cannot hold back the others.

use std::sync::Arc;

use chrono::TimeDelta;
use tokio::task::JoinSet;

use super::FailureNotifier;
use super::outbox_config::{AfterFailure, OutboxConfig};
use crate::error_report::one_line;
use crate::store::{OutboxEvent, OutboxStore, StoreError};
use crate::{Clock, Shutdown};

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Events delivered.
    pub delivered: u32,
    /// Events whose delivery failed (to be retried).
    pub failed: u32,
    /// Events whose delivery failed for the last time: they are dead now.
    pub dead: u32,
}

/// How one event was settled.
enum Settled {
    Delivered,
    Failed,
    Dead,
}

/// Takes due events from the outbox and hands them to the notifier.
#[derive(Clone)]
pub struct OutboxWorker {
    store: Arc<dyn OutboxStore>,
    notifier: Arc<dyn FailureNotifier>,
    clock: Arc<dyn Clock>,
    config: OutboxConfig,
}

impl OutboxWorker {
    /// A worker delivering from `store` through `notifier`.
    pub fn new(
        store: Arc<dyn OutboxStore>,
        notifier: Arc<dyn FailureNotifier>,
        clock: Arc<dyn Clock>,
        config: OutboxConfig,
    ) -> Self {
        Self {
            store,
            notifier,
            clock,
            config,
        }
    }

    /// One round: delivers the events due now, concurrently, each settled on its own (one that
    /// cannot be read or delivered never holds back the others); tests drive this directly.
    pub async fn try_deliver(&self) -> Result<DeliveryReport, StoreError> {
        let lease = TimeDelta::from_std(self.config.lease).unwrap_or(TimeDelta::minutes(1));
        let events = self
            .store
            .take_due_events(self.clock.now(), self.config.batch, lease)
            .await?;
        let mut deliveries = JoinSet::new();
        for event in events {
            let worker = self.clone();
            deliveries.spawn(async move { worker.deliver(event).await });
        }
        let mut report = DeliveryReport::default();
        while let Some(done) = deliveries.join_next().await {
            match done {
                Ok(Ok(Settled::Delivered)) => report.delivered += 1,
                Ok(Ok(Settled::Failed)) => report.failed += 1,
                Ok(Ok(Settled::Dead)) => report.dead += 1,
                // The lease expires and the event is taken again: at least once.
                Ok(Err(err)) => log::warn!("settling an outbox event failed: {}", one_line(&err)),
                Err(err) => log::error!("an outbox delivery task failed: {err}"),
            }
        }
        Ok(report)
    }

    /// Delivers until `shutdown`, waiting `idle_poll` whenever a round delivered nothing or
    /// something failed.
    pub async fn run(self, mut shutdown: Shutdown) {
        while !shutdown.is_requested() {
            let idle = match self.try_deliver().await {
                Ok(report) => report.delivered == 0 || report.failed + report.dead > 0,
                Err(err) => {
                    log::warn!("reading the outbox failed: {}", one_line(&err));
                    true
                }
            };
            if idle {
                tokio::select! {
                    () = tokio::time::sleep(self.config.idle_poll) => {}
                    () = shutdown.requested() => {}
                }
            }
        }
    }

    /// Delivers one event and records the outcome: delivered, retried later, or dead.
    async fn deliver(&self, event: OutboxEvent) -> Result<Settled, StoreError> {
        let outcome = match &event.notification {
            Ok(notification) => self
                .notifier
                .notify(notification)
                .await
                .map_err(|e| e.to_string()),
            Err(unreadable) => Err(unreadable.clone()),
        };
        let now = self.clock.now();
        let Err(error) = outcome else {
            self.store.mark_delivered(event.seq, now).await?;
            return Ok(Settled::Delivered);
        };
        let failures = event.failures + 1;
        let kind = event
            .notification
            .as_ref()
            .map_or("unreadable", |n| n.kind.as_str());
        match self.config.after_failure(failures, now) {
            AfterFailure::Retry(at, wait) => {
                log::warn!(
                    "event {} ({kind}) not delivered (failure {failures}): {error}; next try in {wait:?}",
                    event.id
                );
                self.store.mark_failed(event.seq, &error, at).await?;
                Ok(Settled::Failed)
            }
            AfterFailure::Dead => {
                log::error!(
                    "event {} ({kind}) is dead after {failures} failed deliveries: {error}; \
                     POST /rest/v1/events/{}/redeliver re-queues it",
                    event.id,
                    event.id
                );
                self.store.mark_dead(event.seq, &error, now).await?;
                Ok(Settled::Dead)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{EventData, EventKind, Notification};
    use mockall::predicate::eq;

    use super::*;
    use crate::ManualClock;
    use crate::clock::test_start as now;
    use crate::notify::{MockFailureNotifier, NotifyError};
    use crate::store::MockOutboxStore;

    fn event(seq: i64, failures: u32) -> OutboxEvent {
        OutboxEvent {
            seq,
            id: format!("evt_{seq}"),
            notification: Ok(Notification {
                id: format!("evt_{seq}"),
                kind: EventKind::ChargeFailed,
                created_at: now(),
                data: EventData {
                    invoice: None,
                    run: None,
                },
            }),
            failures,
        }
    }

    fn unreadable(seq: i64, failures: u32) -> OutboxEvent {
        OutboxEvent {
            notification: Err("unknown event type \"invoice.refunded\"".into()),
            ..event(seq, failures)
        }
    }

    /// A receiver that refuses `evt_<refused>` and takes every other event.
    fn receiver(refused: &'static str) -> MockFailureNotifier {
        let mut notifier = MockFailureNotifier::new();
        notifier.expect_notify().returning(move |e| {
            if e.id == refused {
                Err(NotifyError::Unavailable("receiver down".into()))
            } else {
                Ok(())
            }
        });
        notifier
    }

    fn worker(
        store: MockOutboxStore,
        notifier: MockFailureNotifier,
        config: OutboxConfig,
    ) -> OutboxWorker {
        OutboxWorker::new(
            Arc::new(store),
            Arc::new(notifier),
            Arc::new(ManualClock::new(now())),
            config,
        )
    }

    #[tokio::test]
    async fn delivered_events_are_marked_and_failed_ones_rescheduled_with_growing_backoff() {
        let mut store = MockOutboxStore::new();
        store
            .expect_take_due_events()
            .times(1)
            .returning(|_, _, _| Ok(vec![event(1, 0), event(2, 3)]));
        store
            .expect_mark_delivered()
            .with(eq(1), eq(now()))
            .times(1)
            .returning(|_, _| Ok(()));
        // Fourth failure: 5 s × 2^3 = 40 s.
        store
            .expect_mark_failed()
            .withf(|seq, err, at| {
                *seq == 2 && err.contains("down") && *at == now() + TimeDelta::seconds(40)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let report = worker(store, receiver("evt_2"), OutboxConfig::default())
            .try_deliver()
            .await
            .unwrap();
        assert_eq!(
            report,
            DeliveryReport {
                delivered: 1,
                failed: 1,
                dead: 0
            }
        );
    }

    #[tokio::test]
    async fn an_unreadable_event_is_a_failure_of_its_own_and_the_others_are_delivered() {
        let mut store = MockOutboxStore::new();
        store
            .expect_take_due_events()
            .times(1)
            .returning(|_, _, _| Ok(vec![unreadable(1, 0), event(2, 0), event(3, 0)]));
        store
            .expect_mark_delivered()
            .withf(|seq, _| *seq == 2 || *seq == 3)
            .times(2)
            .returning(|_, _| Ok(()));
        // Retried with backoff like any failure, the parse error kept as the reason.
        store
            .expect_mark_failed()
            .withf(|seq, err, at| {
                *seq == 1
                    && err.contains("invoice.refunded")
                    && *at == now() + TimeDelta::seconds(5)
            })
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut notifier = MockFailureNotifier::new();
        notifier
            .expect_notify()
            .withf(|e| e.id != "evt_1")
            .times(2)
            .returning(|_| Ok(()));
        let report = worker(store, notifier, OutboxConfig::default())
            .try_deliver()
            .await
            .unwrap();
        assert_eq!((report.delivered, report.failed, report.dead), (2, 1, 0));
    }

    #[tokio::test]
    async fn an_event_failing_for_the_last_allowed_time_is_dead_and_never_rescheduled() {
        let config = OutboxConfig {
            max_failures: 3,
            ..OutboxConfig::default()
        };
        let mut store = MockOutboxStore::new();
        store
            .expect_take_due_events()
            .times(1)
            .returning(|_, _, _| Ok(vec![event(1, 2), unreadable(2, 2), event(3, 1)]));
        store
            .expect_mark_dead()
            .withf(|seq, err, at| {
                ((*seq == 1 && err.contains("down")) || (*seq == 2 && err.contains("refunded")))
                    && *at == now()
            })
            .times(2)
            .returning(|_, _, _| Ok(()));
        // Its second failure: still retried.
        store
            .expect_mark_failed()
            .withf(|seq, _, _| *seq == 3)
            .times(1)
            .returning(|_, _, _| Ok(()));
        let mut notifier = MockFailureNotifier::new();
        notifier
            .expect_notify()
            .returning(|_| Err(NotifyError::Rejected("410 Gone: receiver down".into())));
        let report = worker(store, notifier, config).try_deliver().await.unwrap();
        assert_eq!(
            report,
            DeliveryReport {
                delivered: 0,
                failed: 1,
                dead: 2
            }
        );
    }

    #[tokio::test]
    async fn a_failure_to_settle_one_event_leaves_the_others_settled() {
        let mut store = MockOutboxStore::new();
        store
            .expect_take_due_events()
            .returning(|_, _, _| Ok(vec![event(1, 0), event(2, 0)]));
        store.expect_mark_delivered().returning(|seq, _| {
            if seq == 1 {
                Err(StoreError::Corrupt("lost".into()))
            } else {
                Ok(())
            }
        });
        let report = worker(store, receiver("none"), OutboxConfig::default())
            .try_deliver()
            .await
            .unwrap();
        assert_eq!(
            report.delivered, 1,
            "event 1 stays leased and is taken again"
        );
    }
}
