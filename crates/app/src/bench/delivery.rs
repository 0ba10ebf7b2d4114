//! The engine scenarios' events, delivered as `serve` and `bill` deliver them: the outbox worker
//! runs beside the billing run, signing and POSTing every event to a local receiver, and the
//! scenario ends only once the outbox is empty.

use std::sync::Arc;
use std::time::{Duration, Instant};

use antaeus_core::notify::{OutboxConfig, OutboxWorker};
use antaeus_core::store::OutboxStore;
use antaeus_core::{Clock, Shutdown, ShutdownTrigger};
use antaeus_data::Database;
use anyhow::Context;
use tokio::task::JoinHandle;

use super::receiver::Receiver;
use crate::notify::{WebhookConfig, WebhookNotifier};

/// How long the outbox may stay the same size after the run before the check fails.
const STALL: Duration = Duration::from_secs(60);

/// How often the backlog is read while draining, at most and at least. Counting the backlog
/// reads every pending event, so a long backlog is read less often: [`poll_after`].
const POLL: Duration = Duration::from_millis(20);
const POLL_MAX: Duration = Duration::from_millis(200);

/// Events the worker is expected to deliver per second at most: a backlog is read again
/// after about the time it takes to deliver it, so the scenario ends late by one short poll
/// at most.
const DRAIN_RATE: u64 = 10_000;

/// How long to wait before reading a backlog of `backlog` events again.
fn poll_after(backlog: u64) -> Duration {
    Duration::from_millis(backlog.saturating_mul(1_000) / DRAIN_RATE).clamp(POLL, POLL_MAX)
}

/// An outbox worker delivering to a local receiver.
pub(super) struct Delivery {
    receiver: Receiver,
    stop: ShutdownTrigger,
    worker: JoinHandle<()>,
}

/// What the delivery did.
pub(super) struct Delivered {
    /// Events the receiver took (at least once: a redelivery counts again).
    pub events: u64,
    /// How long the outbox took to empty after the run ended.
    pub drain: Duration,
    /// Why the outbox did not end empty, if it did not.
    pub failure: Option<String>,
}

impl Delivery {
    /// Starts the receiver and the worker on `db`, with the default outbox settings.
    pub fn start(db: &Database, clock: Arc<dyn Clock>) -> anyhow::Result<Self> {
        let receiver = Receiver::start()?;
        let notifier = WebhookNotifier::new(
            WebhookConfig {
                url: receiver.url.clone(),
                secrets: vec!["bench-secret".into()],
                timeout: Duration::from_secs(10),
            },
            clock.clone(),
        )
        .context("cannot make the benchmark's webhook notifier")?;
        let worker = OutboxWorker::new(
            Arc::new(db.clone()),
            Arc::new(notifier),
            clock,
            OutboxConfig::default(),
        );
        let (stop, signal) = Shutdown::new();
        Ok(Self {
            receiver,
            stop,
            worker: tokio::spawn(worker.run(signal)),
        })
    }

    /// Waits until the outbox is empty (or stuck for [`STALL`]), then stops the worker and
    /// the receiver.
    pub async fn drain(self, db: &Database) -> anyhow::Result<Delivered> {
        let began = Instant::now();
        // The run is over: the takes from here on look at every event left.
        db.rewind_outbox();
        let (mut last, mut since) = (u64::MAX, Instant::now());
        let mut failure = None;
        loop {
            let backlog = db.outbox_backlog().await?;
            if backlog == 0 {
                break;
            }
            if backlog < last {
                (last, since) = (backlog, Instant::now());
            } else if since.elapsed() > STALL {
                failure = Some(format!(
                    "{backlog} events still in the outbox after {}s without progress",
                    STALL.as_secs()
                ));
                break;
            }
            tokio::time::sleep(poll_after(backlog)).await;
        }
        let drain = began.elapsed();
        self.stop.trigger();
        let _ = self.worker.await;
        let dead = db.dead_events().await?;
        if dead > 0 && failure.is_none() {
            failure = Some(format!("{dead} events dead in the outbox"));
        }
        let events = self.receiver.received();
        self.receiver.stop().await;
        Ok(Delivered {
            events,
            drain,
            failure,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_backlog_is_read_less_often_and_a_short_one_every_short_poll() {
        assert_eq!(poll_after(0), POLL);
        assert_eq!(poll_after(100), POLL);
        assert_eq!(poll_after(1_000), Duration::from_millis(100));
        assert_eq!(poll_after(50_000), POLL_MAX);
        assert_eq!(poll_after(u64::MAX), POLL_MAX);
    }
}
