//! A run's heartbeat: keeps its claims from being taken over while it is alive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use antaeus_models::InstanceId;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::Clock;
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

    fn beat(&self) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
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
    /// Starts beating every `every` for `worker`; the first beat has just been stored.
    pub(crate) fn start(
        instances: Arc<dyn InstanceStore>,
        clock: Arc<dyn Clock>,
        worker: InstanceId,
        every: Duration,
    ) -> Self {
        let status = HeartbeatStatus(Arc::new(Mutex::new(Instant::now())));
        let (stop, mut stopped) = oneshot::channel();
        let beating = status.clone();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    () = tokio::time::sleep(every) => {}
                }
                match instances.heartbeat(&worker, clock.now()).await {
                    Ok(()) => beating.beat(),
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
