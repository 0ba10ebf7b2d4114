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
    /// Delivered; recorded with the round's other deliveries.
    Delivered(i64),
    Failed,
    Dead,
}

/// What a round's deliveries came to, as they finish.
#[derive(Default)]
struct Settlements {
    report: DeliveryReport,
    /// Delivered events, recorded together at the round's end.
    delivered: Vec<i64>,
}

impl Settlements {
    fn add(&mut self, done: Result<Result<Settled, StoreError>, tokio::task::JoinError>) {
        match done {
            Ok(Ok(Settled::Delivered(seq))) => self.delivered.push(seq),
            Ok(Ok(Settled::Failed)) => self.report.failed += 1,
            Ok(Ok(Settled::Dead)) => self.report.dead += 1,
            // The lease expires and the event is taken again: at least once.
            Ok(Err(err)) => log::warn!("settling an outbox event failed: {}", one_line(&err)),
            Err(err) => log::error!("an outbox delivery task failed: {err}"),
        }
    }
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

    /// One round: delivers the events due now, concurrently, each failure settled on its own
    /// (one that cannot be read or delivered never holds back the others) and the deliveries
    /// recorded together in one write; tests drive this directly. When that write fails, the
    /// round is an error and its events are delivered again once their lease ends.
    pub async fn try_deliver(&self) -> Result<DeliveryReport, StoreError> {
        self.deliver_round(self.config.batch).await
    }

    /// One round of up to `take` events, delivering at most `batch` of them at a time.
    async fn deliver_round(&self, take: u32) -> Result<DeliveryReport, StoreError> {
        let lease = TimeDelta::from_std(self.config.lease).unwrap_or(TimeDelta::minutes(1));
        let events = self
            .store
            .take_due_events(self.clock.now(), take, lease)
            .await?;
        let in_flight = usize::try_from(self.config.batch.max(1)).unwrap_or(usize::MAX);
        let mut deliveries = JoinSet::new();
        let mut settled = Settlements::default();
        for event in events {
            if deliveries.len() >= in_flight
                && let Some(done) = deliveries.join_next().await
            {
                settled.add(done);
            }
            let worker = self.clone();
            deliveries.spawn(async move { worker.deliver(event).await });
        }
        while let Some(done) = deliveries.join_next().await {
            settled.add(done);
        }
        let Settlements {
            mut report,
            delivered,
        } = settled;
        if !delivered.is_empty() {
            self.store
                .mark_delivered(&delivered, self.clock.now())
                .await?;
            report.delivered = u32::try_from(delivered.len()).unwrap_or(u32::MAX);
        }
        Ok(report)
    }

    /// Delivers until `shutdown`, waiting `idle_poll` whenever a round delivered nothing or
    /// something failed. While a backlog lasts, rounds grow (see [`OutboxConfig::max_round`]).
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut take = self.config.batch;
        while !shutdown.is_requested() {
            let idle = match self.deliver_round(take).await {
                Ok(report) => {
                    let took = report.delivered + report.failed + report.dead;
                    let clean = report.failed + report.dead == 0;
                    take = self.config.next_round(take, took, clean);
                    report.delivered == 0 || !clean
                }
                Err(err) => {
                    log::warn!("the outbox cannot be read or written: {}", one_line(&err));
                    take = self.config.batch;
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

    /// Delivers the backlog due now, in growing rounds, until a round finds nothing to
    /// deliver, a delivery fails (the receiver is down or refusing: what is left waits for the
    /// next worker), the outbox cannot be read or written, or `shutdown`; returns what it
    /// delivered. For a command that ends after its run (`antaeus bill`), so that its events
    /// go out before it exits rather than wait for a server.
    pub async fn drain(&self, shutdown: &Shutdown) -> DeliveryReport {
        let mut total = DeliveryReport::default();
        let mut take = self.config.batch;
        while !shutdown.is_requested() {
            let report = match self.deliver_round(take).await {
                Ok(report) => report,
                Err(err) => {
                    log::warn!("the outbox cannot be read or written: {}", one_line(&err));
                    break;
                }
            };
            total.delivered = total.delivered.saturating_add(report.delivered);
            total.failed = total.failed.saturating_add(report.failed);
            total.dead = total.dead.saturating_add(report.dead);
            let took = report.delivered + report.failed + report.dead;
            let clean = report.failed + report.dead == 0;
            if report.delivered == 0 || !clean {
                break;
            }
            take = self.config.next_round(take, took, clean);
        }
        total
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
            return Ok(Settled::Delivered(event.seq));
        };
        let failures = event.failures.saturating_add(1);
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
mod tests;
