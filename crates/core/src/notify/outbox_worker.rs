//! Delivers outbox events with retries, so that neither a crash nor a receiver outage loses one,
//! and sets aside (dead) an event that keeps failing, so that it cannot hold back the others.

use std::sync::Arc;

use chrono::TimeDelta;
use tokio::sync::Semaphore;
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

impl DeliveryReport {
    /// Adds `other`'s counts to this report's.
    fn add(&mut self, other: DeliveryReport) {
        self.delivered = self.delivered.saturating_add(other.delivered);
        self.failed = self.failed.saturating_add(other.failed);
        self.dead = self.dead.saturating_add(other.dead);
    }
}

/// Takes due events from the outbox and hands them to the notifier, in
/// [`OutboxConfig::lanes`] lanes of rounds that share one limit of deliveries in flight.
#[derive(Clone)]
pub struct OutboxWorker {
    store: Arc<dyn OutboxStore>,
    notifier: Arc<dyn FailureNotifier>,
    clock: Arc<dyn Clock>,
    config: OutboxConfig,
    /// One permit per delivery in flight ([`OutboxConfig::batch`]), shared by every lane.
    in_flight: Arc<Semaphore>,
}

impl OutboxWorker {
    /// A worker delivering from `store` through `notifier`.
    pub fn new(
        store: Arc<dyn OutboxStore>,
        notifier: Arc<dyn FailureNotifier>,
        clock: Arc<dyn Clock>,
        config: OutboxConfig,
    ) -> Self {
        let permits = usize::try_from(config.batch.max(1)).unwrap_or(Semaphore::MAX_PERMITS);
        Self {
            store,
            notifier,
            clock,
            config,
            in_flight: Arc::new(Semaphore::new(permits.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// One round: delivers the events due now, concurrently, each failure settled on its own
    /// (one that cannot be read or delivered never holds back the others) and the deliveries
    /// recorded together in one write; tests drive this directly. When that write fails, the
    /// round is an error and its events are delivered again once their lease ends.
    pub async fn try_deliver(&self) -> Result<DeliveryReport, StoreError> {
        self.deliver_round(self.config.batch).await
    }

    /// One round of up to `take` events, each delivery waiting for one of the `batch` permits
    /// every lane shares. A delivery starts only while at least half of its event's lease is
    /// left: the rest of a round that waited that long (a slow or failing receiver, the other
    /// lanes ahead of it) stays leased and is taken again once the lease has ended (how soon
    /// after is the store's: within a minute on PostgreSQL), so a delivery still under way
    /// when another worker takes the event is as unlikely with many lanes as with one.
    async fn deliver_round(&self, take: u32) -> Result<DeliveryReport, StoreError> {
        let lease = TimeDelta::from_std(self.config.lease).unwrap_or(TimeDelta::minutes(1));
        let taken_at = self.clock.now();
        let events = self.store.take_due_events(taken_at, take, lease).await?;
        let start_by = taken_at + lease / 2;
        let mut deliveries = JoinSet::new();
        let mut settled = Settlements::default();
        let mut events = events.into_iter();
        while let Some(event) = events.next() {
            // The semaphore is never closed, so a permit always comes.
            let permit = self.in_flight.clone().acquire_owned().await.ok();
            if self.clock.now() >= start_by {
                log::warn!(
                    "{} outbox events left to a later round: half their lease went by before \
                     their turn (a slow receiver?)",
                    1 + events.len()
                );
                break;
            }
            while let Some(done) = deliveries.try_join_next() {
                settled.add(done);
            }
            let worker = self.clone();
            deliveries.spawn(async move {
                let settled = worker.deliver(event).await;
                drop(permit);
                settled
            });
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

    /// Delivers until `shutdown`, in [`OutboxConfig::lanes`] lanes, each waiting `idle_poll`
    /// whenever a round of its own delivered nothing or something failed. While a backlog
    /// lasts, rounds grow (see [`OutboxConfig::max_round`]).
    pub async fn run(self, shutdown: Shutdown) {
        self.in_lanes(|lane| lane.run_lane(shutdown.clone())).await;
    }

    /// Runs `lane` once per [`OutboxConfig::lanes`], side by side (the first on this task);
    /// returns what each lane that did not panic came to.
    async fn in_lanes<T, F>(&self, lane: impl Fn(OutboxWorker) -> F) -> Vec<T>
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        let mut others = JoinSet::new();
        for _ in 1..self.config.lanes.max(1) {
            others.spawn(lane(self.clone()));
        }
        let mut done = vec![lane(self.clone()).await];
        while let Some(other) = others.join_next().await {
            match other {
                Ok(result) => done.push(result),
                Err(err) => log::error!("an outbox lane failed: {err}"),
            }
        }
        done
    }

    /// One lane of [`Self::run`].
    async fn run_lane(self, mut shutdown: Shutdown) {
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

    /// Delivers the backlog due now, in growing rounds in every lane, until a lane's round
    /// finds nothing to deliver, a delivery fails (the receiver is down or refusing: what is
    /// left waits for the next worker), the outbox cannot be read or written, or `shutdown`;
    /// returns what every lane delivered. For a command that ends after its run
    /// (`antaeus bill`), so that its events go out before it exits rather than wait for a
    /// server.
    pub async fn drain(&self, shutdown: &Shutdown) -> DeliveryReport {
        let reports = self
            .in_lanes(|lane| {
                let shutdown = shutdown.clone();
                async move { lane.drain_lane(&shutdown).await }
            })
            .await;
        reports
            .into_iter()
            .fold(DeliveryReport::default(), |mut total, report| {
                total.add(report);
                total
            })
    }

    /// One lane of [`Self::drain`].
    async fn drain_lane(&self, shutdown: &Shutdown) -> DeliveryReport {
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
            total.add(report);
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
