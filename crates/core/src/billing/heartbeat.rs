//! A run's heartbeat: keeps its claims from being taken over while it is alive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use antaeus_models::InstanceId;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error_report::one_line;
use crate::store::InstanceStore;

/// When the last heartbeat succeeded.
#[derive(Debug, Clone)]
pub(crate) struct HeartbeatStatus(Arc<Mutex<Instant>>);

impl HeartbeatStatus {
    /// How long ago the last heartbeat was stored.
    pub(crate) fn age(&self) -> Duration {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).elapsed()
    }

    /// Records a beat stored by a write that started at `started`: the store stamped it at
    /// some instant after that, so the lease is counted from the start (never in our favour).
    fn beat(&self, started: Instant) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = started;
    }
}

/// A heartbeat loop; [`Heartbeat::stop`] ends it only between beats, so no beat lands after
/// the instance is retired.
pub(crate) struct Heartbeat {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
    status: HeartbeatStatus,
}

impl Heartbeat {
    /// Starts beating every `every` for `worker`; the first beat, whose write started at
    /// `first_beat_started`, has just been stored.
    pub(crate) fn start(
        instances: Arc<dyn InstanceStore>,
        worker: InstanceId,
        every: Duration,
        first_beat_started: Instant,
    ) -> Self {
        let status = HeartbeatStatus(Arc::new(Mutex::new(first_beat_started)));
        let (stop, mut stopped) = oneshot::channel();
        let beating = status.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(every) => {}
                }
                let started = Instant::now();
                match instances.heartbeat(&worker).await {
                    Ok(()) => beating.beat(started),
                    Err(err) => log::warn!("heartbeat of {worker} failed: {}", one_line(&err)),
                }
            }
        });
        Self { stop, task, status }
    }

    /// The status runs consult.
    pub(crate) fn status(&self) -> &HeartbeatStatus {
        &self.status
    }

    /// Stops beating, after any beat in progress.
    pub(crate) async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
