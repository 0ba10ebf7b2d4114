//! Delivers outbox events with retries, so that neither a crash nor a receiver outage loses one.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use tokio::task::JoinSet;

use super::FailureNotifier;
use crate::error_report::one_line;
use crate::store::{OutboxStore, StoreError};
use crate::{Clock, Shutdown};

/// Delivery settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutboxConfig {
    /// Events taken per round. Default 50.
    pub batch: u32,
    /// How long taken events are hidden from other workers. Default 60 s.
    pub lease: Duration,
    /// How long to wait when nothing is due. Default 1 s.
    pub idle_poll: Duration,
    /// Wait after the first failed delivery; doubles per failure. Default 5 s.
    pub retry_base: Duration,
    /// Longest wait between deliveries of one event. Default 1 h.
    pub retry_cap: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        Self {
            batch: 50,
            lease: Duration::from_secs(60),
            idle_poll: Duration::from_secs(1),
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(3600),
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Events delivered.
    pub delivered: u32,
    /// Events whose delivery failed (to be retried).
    pub failed: u32,
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

    /// One round: delivers the events due now, concurrently; tests drive this directly.
    pub async fn try_deliver(&self) -> Result<DeliveryReport, StoreError> {
        let lease = TimeDelta::from_std(self.config.lease).unwrap_or(TimeDelta::minutes(1));
        let events = self
            .store
            .take_due_events(self.clock.now(), self.config.batch, lease)
            .await?;
        let mut deliveries = JoinSet::new();
        for event in events {
            let worker = self.clone();
            deliveries.spawn(async move {
                match worker.notifier.notify(&event.notification).await {
                    Ok(()) => worker
                        .store
                        .mark_delivered(event.seq, worker.clock.now())
                        .await
                        .map(|()| true),
                    Err(err) => {
                        let wait = worker.retry_delay(event.failures + 1);
                        log::warn!(
                            "event {} ({}) not delivered (failure {}): {err}; next try in {wait:?}",
                            event.notification.id,
                            event.notification.kind,
                            event.failures + 1
                        );
                        let retry_at = worker.clock.now()
                            + TimeDelta::from_std(wait).unwrap_or(TimeDelta::hours(1));
                        worker
                            .store
                            .mark_failed(event.seq, &err.to_string(), retry_at)
                            .await
                            .map(|()| false)
                    }
                }
            });
        }
        let mut report = DeliveryReport::default();
        while let Some(done) = deliveries.join_next().await {
            match done {
                Ok(Ok(true)) => report.delivered += 1,
                Ok(Ok(false)) => report.failed += 1,
                // The lease expires and the event is taken again: at least once.
                Ok(Err(err)) => log::warn!("settling an outbox event failed: {}", one_line(&err)),
                Err(err) => log::error!("an outbox delivery task failed: {err}"),
            }
        }
        Ok(report)
    }

    /// Delivers until `shutdown`, waiting `idle_poll` whenever a round found nothing to do.
    pub async fn run(self, mut shutdown: Shutdown) {
        while !shutdown.is_requested() {
            let idle = match self.try_deliver().await {
                Ok(report) => report.delivered + report.failed == 0 || report.failed > 0,
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

    /// base × 2^(failures-1), capped.
    fn retry_delay(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(30);
        self.config
            .retry_base
            .checked_mul(1 << doublings)
            .map_or(self.config.retry_cap, |d| d.min(self.config.retry_cap))
    }
}

#[cfg(test)]
mod tests {
    use antaeus_models::{EventData, EventKind, Notification};
    use chrono::{DateTime, Utc};
    use mockall::predicate::eq;

    use super::*;
    use crate::ManualClock;
    use crate::notify::{MockFailureNotifier, NotifyError};
    use crate::store::{MockOutboxStore, OutboxEvent};

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .to_utc()
    }

    fn event(seq: i64, failures: u32) -> OutboxEvent {
        OutboxEvent {
            seq,
            notification: Notification {
                id: format!("evt_{seq}"),
                kind: EventKind::ChargeFailed,
                created_at: now(),
                data: EventData {
                    invoice: None,
                    run: None,
                },
            },
            failures,
        }
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
        let mut notifier = MockFailureNotifier::new();
        notifier.expect_notify().returning(|e| {
            if e.id == "evt_2" {
                Err(NotifyError::Unavailable("receiver down".into()))
            } else {
                Ok(())
            }
        });
        let worker = OutboxWorker::new(
            Arc::new(store),
            Arc::new(notifier),
            Arc::new(ManualClock::new(now())),
            OutboxConfig::default(),
        );
        let report = worker.try_deliver().await.unwrap();
        assert_eq!(
            report,
            DeliveryReport {
                delivered: 1,
                failed: 1
            }
        );
    }

    #[test]
    fn retry_delay_is_capped() {
        let worker = OutboxWorker::new(
            Arc::new(MockOutboxStore::new()),
            Arc::new(MockFailureNotifier::new()),
            Arc::new(ManualClock::new(now())),
            OutboxConfig::default(),
        );
        assert_eq!(worker.retry_delay(1), Duration::from_secs(5));
        assert_eq!(worker.retry_delay(2), Duration::from_secs(10));
        assert_eq!(worker.retry_delay(40), Duration::from_secs(3600));
    }
}
