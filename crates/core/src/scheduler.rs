//! The built-in scheduler: fires billing runs on schedules, once per fire time across every
//! instance (the fire time is the run's idempotency key). A fire whose run could not be
//! started (the database was down at 00:00 on the 1st) is tried again with backoff until it
//! starts, a newer fire of its schedule supersedes it, or the instance shuts down.

mod fire_queue;

use std::sync::Arc;
use std::time::Duration;

use antaeus_models::{IdempotencyKey, RunScope, RunTrigger};
use chrono::{DateTime, TimeDelta, Utc};
use tokio::time::Instant;

use crate::billing::{BillingError, RunExecutor, RunRequest, Triggered};
use crate::error_report::one_line;
use crate::{Clock, Shutdown};

pub use fire_queue::FireBackoff;
use fire_queue::FireQueue;

/// When something fires; implemented in `antaeus-app` with a cron parser.
pub trait FireSchedule: Send + Sync {
    /// The first fire time strictly after `after`, if any.
    fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>>;
}

/// A named schedule of billing runs.
#[derive(Clone)]
pub struct ScheduledRuns {
    /// Names the schedule in run keys, e.g. `monthly`, `retry`.
    pub name: String,
    /// When it fires.
    pub schedule: Arc<dyn FireSchedule>,
    /// Which due invoices its runs charge.
    pub scope: RunScope,
}

/// One fire of a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fire {
    /// The schedule's name.
    pub name: String,
    /// The instant it fired for.
    pub at: DateTime<Utc>,
    /// Which due invoices the run charges.
    pub scope: RunScope,
}

impl Fire {
    /// The run this fire starts: `scheduler-<name>-<RFC 3339 time>`, so every instance firing
    /// the same schedule names the same run.
    pub fn run_request(&self) -> RunRequest {
        let key = format!(
            "scheduler-{}-{}",
            self.name,
            self.at.format("%Y-%m-%dT%H:%M:%SZ")
        );
        RunRequest::new(
            IdempotencyKey::parse(key).expect("schedule names are visible ASCII"),
            RunTrigger::Scheduler,
            self.scope,
        )
    }
}

/// Fires billing runs on schedules.
pub struct Scheduler {
    executor: Arc<RunExecutor>,
    schedules: Vec<ScheduledRuns>,
    clock: Arc<dyn Clock>,
    catch_up: TimeDelta,
    backoff: FireBackoff,
}

/// The longest the scheduler sleeps before looking at the clock again (clocks jump).
const MAX_SLEEP: Duration = Duration::from_secs(60);

impl Scheduler {
    /// A scheduler starting runs through `executor`. On start it also fires what it missed in
    /// the last `catch_up` (an instance restarted just after midnight still bills). A fire
    /// that fails is tried again after [`FireBackoff::default`].
    pub fn new(
        executor: Arc<RunExecutor>,
        schedules: Vec<ScheduledRuns>,
        clock: Arc<dyn Clock>,
        catch_up: TimeDelta,
    ) -> Self {
        Self {
            executor,
            schedules,
            clock,
            catch_up,
            backoff: FireBackoff::default(),
        }
    }

    /// The same scheduler, trying failed fires again after `backoff`.
    pub fn with_fire_backoff(self, backoff: FireBackoff) -> Self {
        Self { backoff, ..self }
    }

    /// The fires in `(since, until]`, the latest one per schedule: after a long pause a
    /// schedule fires once, not once per missed instant.
    pub fn fires_between(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<Fire> {
        self.schedules
            .iter()
            .filter_map(|s| {
                let mut latest = None;
                let mut cursor = since;
                while let Some(next) = s.schedule.next_after(cursor) {
                    if next > until {
                        break;
                    }
                    latest = Some(next);
                    cursor = next;
                }
                latest.map(|at| Fire {
                    name: s.name.clone(),
                    at,
                    scope: s.scope,
                })
            })
            .collect()
    }

    /// Starts the runs of the fires in `(since, until]` once each (a failure is logged, not
    /// tried again); returns what each trigger did.
    pub async fn tick(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(Fire, Triggered)> {
        let mut started = Vec::new();
        for fire in self.fires_between(since, until) {
            match self.start(&fire).await {
                Ok(triggered) => started.push((fire, triggered)),
                Err(err) => log::error!("{}", not_started(&fire, &err)),
            }
        }
        started
    }

    /// Fires schedules until `shutdown`, trying a fire whose run could not be started again
    /// with backoff.
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut since = self.clock.now() - self.catch_up;
        let mut queue = FireQueue::default();
        while !shutdown.is_requested() {
            let now = self.clock.now();
            for fire in self.fires_between(since, now) {
                queue.fired(fire, Instant::now());
            }
            since = now;
            self.start_due(&mut queue, &shutdown).await;
            let wait = self.until_next(now, &queue);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.requested() => {}
            }
        }
    }

    /// Starts the runs of the fires due now; one that failed and may yet start goes back in
    /// `queue` after its backoff.
    async fn start_due(&self, queue: &mut FireQueue, shutdown: &Shutdown) {
        for pending in queue.take_due(Instant::now()) {
            if shutdown.is_requested() {
                return;
            }
            let Err(err) = self.start(&pending.fire).await else {
                continue;
            };
            let failed = not_started(&pending.fire, &err);
            if worth_retrying(&err) {
                let wait = queue.failed(pending, Instant::now(), self.backoff);
                log::error!("{failed}; trying again in {wait:?}");
            } else {
                log::error!("{failed}; not tried again");
            }
        }
    }

    /// How long to sleep after looking at the clock at `now`: until the next fire or retry, at
    /// most [`MAX_SLEEP`].
    fn until_next(&self, now: DateTime<Utc>, queue: &FireQueue) -> Duration {
        let next_fire = self
            .schedules
            .iter()
            .filter_map(|s| s.schedule.next_after(now))
            .min()
            .map_or(MAX_SLEEP, |at| {
                (at - self.clock.now()).to_std().unwrap_or(Duration::ZERO)
            });
        let next_retry = queue.next_due().map_or(MAX_SLEEP, |due| {
            due.saturating_duration_since(Instant::now())
        });
        next_fire.min(next_retry).min(MAX_SLEEP)
    }

    /// Triggers the run of `fire`.
    async fn start(&self, fire: &Fire) -> Result<Triggered, BillingError> {
        let triggered = self.executor.trigger(&fire.run_request()).await?;
        if let Triggered::Started(run) = &triggered {
            log::info!(
                "schedule {} fired for {}: run {}",
                fire.name,
                fire.at,
                run.id
            );
        }
        Ok(triggered)
    }
}

/// The log line of a fire whose run could not be started.
fn not_started(fire: &Fire, err: &BillingError) -> String {
    format!(
        "schedule {} could not start its run for {}: {}",
        fire.name,
        fire.at,
        one_line(err)
    )
}

/// Whether a fire whose run could not be started may start it later: storage may come back,
/// but a key taken by another request never frees, and a stopping instance starts nothing.
fn worth_retrying(err: &BillingError) -> bool {
    match err {
        BillingError::Store(_) => true,
        BillingError::KeyReused { .. } | BillingError::ShuttingDown => false,
    }
}

#[cfg(test)]
mod run_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    #[test]
    fn fire_keys_name_the_schedule_and_the_instant() {
        let fire = Fire {
            name: "monthly".into(),
            at: at("2026-12-01T00:00:00Z"),
            scope: RunScope::All,
        };
        let request = fire.run_request();
        assert_eq!(
            request.key.as_str(),
            "scheduler-monthly-2026-12-01T00:00:00Z"
        );
        assert_eq!(request.trigger, RunTrigger::Scheduler);
    }
}
