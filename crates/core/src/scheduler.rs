//! The built-in scheduler: fires billing runs on schedules, once per fire time across every
//! instance (the fire time is the run's idempotency key).

use std::sync::Arc;
use std::time::Duration;

use antaeus_models::{IdempotencyKey, RunTrigger};
use chrono::{DateTime, TimeDelta, Utc};

use crate::billing::{RunExecutor, RunRequest, Triggered};
use crate::error_report::one_line;
use crate::{Clock, Shutdown};

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
}

/// One fire of a schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fire {
    /// The schedule's name.
    pub name: String,
    /// The instant it fired for.
    pub at: DateTime<Utc>,
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
        )
    }
}

/// Fires billing runs on schedules.
pub struct Scheduler {
    executor: Arc<RunExecutor>,
    schedules: Vec<ScheduledRuns>,
    clock: Arc<dyn Clock>,
    catch_up: TimeDelta,
}

/// The longest the scheduler sleeps before looking at the clock again (clocks jump).
const MAX_SLEEP: Duration = Duration::from_secs(60);

impl Scheduler {
    /// A scheduler starting runs through `executor`. On start it also fires what it missed in
    /// the last `catch_up` (an instance restarted just after midnight still bills).
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
        }
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
                })
            })
            .collect()
    }

    /// Starts the runs of the fires in `(since, until]`; returns what each trigger did.
    pub async fn tick(&self, since: DateTime<Utc>, until: DateTime<Utc>) -> Vec<(Fire, Triggered)> {
        let mut started = Vec::new();
        for fire in self.fires_between(since, until) {
            match self.executor.trigger(&fire.run_request()).await {
                Ok(triggered) => {
                    if let Triggered::Started(run) = &triggered {
                        log::info!(
                            "schedule {} fired for {}: run {}",
                            fire.name,
                            fire.at,
                            run.id
                        );
                    }
                    started.push((fire, triggered));
                }
                Err(err) => log::error!(
                    "schedule {} could not start its run for {}: {}",
                    fire.name,
                    fire.at,
                    one_line(&err)
                ),
            }
        }
        started
    }

    /// Fires schedules until `shutdown`.
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut since = self.clock.now() - self.catch_up;
        while !shutdown.is_requested() {
            let now = self.clock.now();
            self.tick(since, now).await;
            since = now;
            let next = self
                .schedules
                .iter()
                .filter_map(|s| s.schedule.next_after(now))
                .min();
            let wait = next
                .and_then(|at| (at - self.clock.now()).to_std().ok())
                .unwrap_or(Duration::ZERO)
                .min(MAX_SLEEP);
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.requested() => {}
            }
        }
    }
}

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
        };
        let request = fire.run_request();
        assert_eq!(
            request.key.as_str(),
            "scheduler-monthly-2026-12-01T00:00:00Z"
        );
        assert_eq!(request.trigger, RunTrigger::Scheduler);
    }
}
