//! A run's heartbeat: keeps its claims from being taken over while it is alive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use antaeus_models::InstanceId;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::error_report::one_line;
use crate::store::InstanceStore;

/// When the last heartbeat succeeded, and why the beats since then failed.
#[derive(Debug, Clone)]
pub(crate) struct HeartbeatStatus(Arc<Mutex<Beats>>);

#[derive(Debug)]
struct Beats {
    last_stored: Instant,
    last_error: Option<String>,
}

impl HeartbeatStatus {
    fn new(first_beat_started: Instant) -> Self {
        Self(Arc::new(Mutex::new(Beats {
            last_stored: first_beat_started,
            last_error: None,
        })))
    }

    fn beats(&self) -> std::sync::MutexGuard<'_, Beats> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// How long ago the last heartbeat was stored.
    pub(crate) fn age(&self) -> Duration {
        self.beats().last_stored.elapsed()
    }

    /// Why the last heartbeat failed, if it did (one line).
    pub(crate) fn last_error(&self) -> Option<String> {
        self.beats().last_error.clone()
    }

    fn failed(&self, why: String) {
        self.beats().last_error = Some(why);
    }

    /// Records a beat stored by a write that started at `started`: the store stamped it at
    /// some instant after that, so the lease is counted from the start (never in our favour).
    fn beat(&self, started: Instant) {
        let mut beats = self.beats();
        beats.last_stored = started;
        beats.last_error = None;
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
        let status = HeartbeatStatus::new(first_beat_started);
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
                    Err(err) => {
                        let why = one_line(&err);
                        log::warn!("heartbeat of {worker} failed: {why}");
                        beating.failed(why);
                    }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::store::{MockInstanceStore, StoreError};

    /// A failing heartbeat says why, so that a run stopped by it can name the cause (a full
    /// disk, say); the next stored beat clears it.
    #[tokio::test(start_paused = true)]
    async fn a_failing_heartbeat_keeps_its_reason_until_a_beat_is_stored() {
        let failing = Arc::new(AtomicBool::new(true));
        let mut instances = MockInstanceStore::new();
        let fails = failing.clone();
        instances.expect_heartbeat().returning(move |_| {
            if fails.load(Ordering::SeqCst) {
                Err(StoreError::Unavailable("no space left on the disk".into()))
            } else {
                Ok(())
            }
        });
        let every = Duration::from_secs(1);
        let heartbeat = Heartbeat::start(
            Arc::new(instances),
            InstanceId::parse("beating-1").unwrap(),
            every,
            Instant::now(),
        );
        let status = heartbeat.status().clone();
        assert_eq!(status.last_error(), None);

        tokio::time::sleep(every * 3 + Duration::from_millis(10)).await;
        let why = status.last_error().expect("the failure is kept");
        assert!(why.contains("no space left on the disk"), "{why}");
        assert!(status.age() >= every * 3, "no beat was stored");

        failing.store(false, Ordering::SeqCst);
        tokio::time::sleep(every).await;
        assert_eq!(status.last_error(), None);
        assert!(status.age() < every);
        heartbeat.stop().await;
    }
}
