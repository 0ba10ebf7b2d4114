//! Whether the built-in scheduler's fires started their runs: for each schedule, its last fire
//! and its next one, and the key of the run the last fire names (`scheduler-<name>-<time>`, the
//! same for every instance), so that `/metrics` can say a scheduled run did not start.

use antaeus_core::scheduler::Fire;
use antaeus_models::RunScope;
use chrono::{DateTime, TimeDelta, Utc};

use crate::cron_schedule::CronSchedule;
use crate::settings::SchedulerSettings;

/// One schedule the scheduler fires.
#[derive(Debug, Clone)]
pub struct WatchedSchedule {
    /// Its name, as in the run's key (`monthly`, `retry`).
    pub name: &'static str,
    /// When it fires.
    pub schedule: CronSchedule,
    /// What its runs charge.
    pub scope: RunScope,
}

/// The schedules of one instance, and since when it answers for their fires.
#[derive(Debug, Clone)]
pub struct ScheduleWatch {
    schedules: Vec<WatchedSchedule>,
    /// Fires at or after this instant are this instance's to start: its start minus the
    /// catch-up window (fires missed that recently are made up at start-up).
    answers_since: DateTime<Utc>,
}

/// What a scrape reports about one schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FireCheck {
    /// The schedule's name.
    pub name: &'static str,
    /// Its latest fire at or before now.
    pub last_fire: Option<DateTime<Utc>>,
    /// Its next fire after now.
    pub next_fire: Option<DateTime<Utc>>,
    /// The key of the run the last fire must have started, when this instance answers for that
    /// fire (a fire from before it started, beyond the catch-up window, is not its to start).
    pub expected_run: Option<String>,
}

impl ScheduleWatch {
    /// The monthly run and the retry sweep of `settings`, for an instance started at `started`.
    pub fn new(settings: &SchedulerSettings, started: DateTime<Utc>) -> Self {
        let catch_up = TimeDelta::from_std(settings.catch_up).unwrap_or(TimeDelta::hours(1));
        Self {
            schedules: vec![
                WatchedSchedule {
                    name: "monthly",
                    schedule: settings.monthly.clone(),
                    scope: RunScope::All,
                },
                WatchedSchedule {
                    name: "retry",
                    schedule: settings.retry.clone(),
                    scope: RunScope::Retries,
                },
            ],
            answers_since: started - catch_up,
        }
    }

    /// Each schedule's last and next fire at `now`, and the run its last fire must have started.
    pub fn check(&self, now: DateTime<Utc>) -> Vec<FireCheck> {
        self.schedules
            .iter()
            .map(|watched| {
                let last_fire = watched.schedule.last_at_or_before(now);
                let expected_run = last_fire.filter(|at| *at >= self.answers_since).map(|at| {
                    Fire {
                        name: watched.name.to_owned(),
                        at,
                        scope: watched.scope,
                    }
                    .run_request()
                    .key
                    .as_str()
                    .to_owned()
                });
                FireCheck {
                    name: watched.name,
                    last_fire,
                    next_fire: antaeus_core::scheduler::FireSchedule::next_after(
                        &watched.schedule,
                        now,
                    ),
                    expected_run,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().to_utc()
    }

    fn settings() -> SchedulerSettings {
        SchedulerSettings {
            enabled: true,
            monthly: CronSchedule::parse("0 0 1 * *").unwrap(),
            retry: CronSchedule::parse("0 * * * *").unwrap(),
            catch_up: Duration::from_secs(3600),
        }
    }

    #[test]
    fn the_last_fire_names_the_run_the_scheduler_starts_for_it() {
        let watch = ScheduleWatch::new(&settings(), at("2026-11-20T00:00:00Z"));
        let checks = watch.check(at("2026-12-01T00:10:00Z"));
        assert_eq!(
            checks,
            vec![
                FireCheck {
                    name: "monthly",
                    last_fire: Some(at("2026-12-01T00:00:00Z")),
                    next_fire: Some(at("2027-01-01T00:00:00Z")),
                    expected_run: Some("scheduler-monthly-2026-12-01T00:00:00Z".into()),
                },
                FireCheck {
                    name: "retry",
                    last_fire: Some(at("2026-12-01T00:00:00Z")),
                    next_fire: Some(at("2026-12-01T01:00:00Z")),
                    expected_run: Some("scheduler-retry-2026-12-01T00:00:00Z".into()),
                },
            ]
        );
    }

    #[test]
    fn a_fire_before_the_instance_started_and_its_catch_up_is_not_expected_of_it() {
        // Started on the 15th: the monthly fire of the 1st was never this instance's to start;
        // the hourly fire 30 minutes before its start is (within the one-hour catch-up).
        let watch = ScheduleWatch::new(&settings(), at("2026-12-15T10:30:00Z"));
        let checks = watch.check(at("2026-12-15T10:45:00Z"));
        assert_eq!(checks[0].last_fire, Some(at("2026-12-01T00:00:00Z")));
        assert_eq!(checks[0].expected_run, None);
        assert_eq!(
            checks[1].expected_run.as_deref(),
            Some("scheduler-retry-2026-12-15T10:00:00Z")
        );
    }
}
