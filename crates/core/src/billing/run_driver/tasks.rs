//! The charging side of a run's pipeline: starting a task per claimed invoice as call slots
//! free up, and ending the tasks when the run ends.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use super::Driver;
use crate::billing::charge::charge;

impl Driver<'_> {
    /// Starts a charging task for buffered invoices while call slots are free.
    pub(super) fn dispatch(&mut self) {
        while !self.buffer.is_empty() && self.tasks.len() < max_tasks(self.config.call_slots()) {
            let Ok(slot) = self.ctx.slots.clone().try_acquire_owned() else {
                break;
            };
            if let Some(claimed) = self.buffer.pop_front() {
                self.tasks
                    .spawn(charge(self.ctx.clone(), claimed, Some(slot)));
            }
        }
    }

    /// Provider calls under way or about to start (their slot is taken).
    pub(super) fn calls_in_flight(&self) -> usize {
        self.config
            .call_slots()
            .saturating_sub(self.ctx.slots.available_permits())
    }

    /// Once a second, at debug level: how full the pipeline is.
    pub(super) fn log_pipeline(&mut self) {
        if self.stats.last_log.elapsed() < Duration::from_secs(1)
            || !log::log_enabled!(log::Level::Debug)
        {
            return;
        }
        self.stats.last_log = Instant::now();
        log::debug!(
            "run {}: {} calls in flight, {} tasks, {} claimed waiting, claim under way: {}, {} claimed so far",
            self.run.id,
            self.calls_in_flight(),
            self.tasks.len(),
            self.buffer.len(),
            self.claiming.is_some(),
            self.stats.claimed
        );
    }
}

/// Most charging tasks at once: those in a call, and as many again between calls.
pub(super) fn max_tasks(call_slots: usize) -> usize {
    call_slots * 2
}

/// Lets the charging tasks end; when stopping early, those still running after `grace` are
/// cancelled (their claims stay open with their keys, and are resent by whoever takes them over).
pub(super) async fn finish_tasks(tasks: &mut JoinSet<()>, stopping: bool, grace: Duration) {
    if !stopping {
        while let Some(done) = tasks.join_next().await {
            log_task_end(done);
        }
        return;
    }
    let deadline = Instant::now() + grace;
    while !tasks.is_empty() {
        match tokio::time::timeout_at(deadline, tasks.join_next()).await {
            Ok(Some(done)) => {
                log_task_end(done);
            }
            Ok(None) => break,
            Err(_) => {
                log::warn!(
                    "{} charges still in flight after {grace:?}: cancelling them; their keys will be resent",
                    tasks.len()
                );
                tasks.abort_all();
                while tasks.join_next().await.is_some() {}
                break;
            }
        }
    }
}

/// Logs a task that panicked; returns whether it did.
pub(super) fn log_task_end(done: Result<(), tokio::task::JoinError>) -> bool {
    match done {
        Err(err) if err.is_panic() => {
            log::error!("a charging task panicked: {err}; its claim will be taken over");
            true
        }
        _ => false,
    }
}
