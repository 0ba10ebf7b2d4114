//! `BillingService`: starts billing runs and drives them to the end.

use std::sync::Arc;

use antaeus_models::{BillingRun, IdempotencyKey, InstanceId, RunStatus, RunTrigger};
use thiserror::Error;

use super::random::Randomness;
use super::{BillingConfig, BreakerState, CircuitBreaker, run_driver};
use crate::error_report::one_line;
use crate::store::{BillingStore, InstanceStore, NewRun, RunStore, StoreError};
use crate::{Clock, PaymentProvider, Shutdown};

/// What the billing service depends on.
#[derive(Clone)]
pub struct BillingDeps {
    /// Claims and the billing journal.
    pub billing: Arc<dyn BillingStore>,
    /// Billing runs.
    pub runs: Arc<dyn RunStore>,
    /// Heartbeats of the instances driving runs.
    pub instances: Arc<dyn InstanceStore>,
    /// The payment provider.
    pub provider: Arc<dyn PaymentProvider>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Backoff jitter.
    pub random: Arc<dyn Randomness>,
}

/// Why a run could not be started or ended.
#[derive(Debug, Error)]
pub enum BillingError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Charges every due invoice, once per run, keeping the billing invariants: an invoice is
/// charged at most once, every due invoice ends the run PAID, FAILED or PENDING with a next
/// attempt, and every provider call is in the attempt log.
#[derive(Clone)]
pub struct BillingService {
    deps: BillingDeps,
    config: BillingConfig,
    breaker: Arc<CircuitBreaker>,
    instance_prefix: String,
}

impl BillingService {
    /// A service whose runs are driven by instances named `<instance_prefix>-<suffix>`.
    pub fn new(
        deps: BillingDeps,
        config: BillingConfig,
        instance_prefix: impl Into<String>,
    ) -> Self {
        let breaker = Arc::new(CircuitBreaker::new(config.breaker));
        Self {
            deps,
            config,
            breaker,
            instance_prefix: instance_prefix.into(),
        }
    }

    /// The provider circuit breaker's state.
    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    /// The settings.
    pub fn config(&self) -> &BillingConfig {
        &self.config
    }

    /// Creates the run named by `key`, or returns the run that already has it (`false`).
    pub async fn create_run(
        &self,
        key: IdempotencyKey,
        trigger: RunTrigger,
    ) -> Result<(BillingRun, bool), BillingError> {
        let worker = self.new_worker_id();
        let new = NewRun {
            idempotency_key: key,
            trigger,
            instance: worker,
            now: self.deps.clock.now(),
        };
        Ok(self.deps.runs.create_run(&new).await?)
    }

    /// Drives a RUNNING run to its end and returns it as it ended. A run that already ended is
    /// returned unchanged.
    pub async fn execute(
        &self,
        run: BillingRun,
        shutdown: Shutdown,
    ) -> Result<BillingRun, BillingError> {
        if run.status != RunStatus::Running {
            return Ok(run);
        }
        let worker =
            InstanceId::parse(run.instance_id.clone()).unwrap_or_else(|_| self.new_worker_id());
        log::info!(
            "billing run {} ({}, key {}) started",
            run.id,
            run.trigger,
            run.idempotency_key
        );
        let end = match self
            .deps
            .instances
            .heartbeat(&worker, self.deps.clock.now())
            .await
        {
            Err(err) => crate::store::RunEnd {
                status: RunStatus::Aborted,
                abort_reason: Some(format!("storage unavailable: {}", one_line(&err))),
                now: self.deps.clock.now(),
            },
            Ok(()) => {
                let heartbeat = self.spawn_heartbeat(worker.clone());
                let end = run_driver::drive(
                    &self.deps,
                    &self.config,
                    &self.breaker,
                    &run,
                    worker.clone(),
                    shutdown,
                )
                .await;
                heartbeat.abort();
                end
            }
        };
        if let Err(err) = self.deps.instances.retire(&worker).await {
            log::warn!(
                "could not retire instance {worker}: {}; it goes stale in {:?}",
                one_line(&err),
                self.config.lease_timeout
            );
        }
        let ended = self.deps.runs.finish_run(run.id, &end).await?;
        let c = ended.counts;
        match &ended.abort_reason {
            None => log::info!(
                "billing run {} completed: {} claimed, {} paid, {} declined, {} failed, {} retry scheduled, {} released",
                ended.id,
                c.claimed,
                c.paid,
                c.declined,
                c.failed,
                c.retry_scheduled,
                c.released
            ),
            Some(reason) => log::warn!(
                "billing run {} aborted ({reason}): {} claimed, {} paid, {} declined, {} failed, {} retry scheduled, {} released",
                ended.id,
                c.claimed,
                c.paid,
                c.declined,
                c.failed,
                c.retry_scheduled,
                c.released
            ),
        }
        Ok(ended)
    }

    /// Creates the run named by `key` and drives it; a key that names an existing run returns
    /// that run and starts nothing.
    pub async fn bill(
        &self,
        key: IdempotencyKey,
        trigger: RunTrigger,
        shutdown: Shutdown,
    ) -> Result<BillingRun, BillingError> {
        let (run, created) = self.create_run(key, trigger).await?;
        if !created {
            return Ok(run);
        }
        self.execute(run, shutdown).await
    }

    fn new_worker_id(&self) -> InstanceId {
        let suffix = (self.deps.random.unit() * f64::from(u32::MAX)) as u32;
        let prefix: String = self
            .instance_prefix
            .chars()
            .take(InstanceId::MAX_LEN - 9)
            .collect();
        InstanceId::parse(format!("{prefix}-{suffix:08x}"))
            .or_else(|_| InstanceId::parse(format!("antaeus-{suffix:08x}")))
            .expect("a hex suffix makes a valid instance id")
    }

    fn spawn_heartbeat(&self, worker: InstanceId) -> tokio::task::JoinHandle<()> {
        let instances = self.deps.instances.clone();
        let clock = self.deps.clock.clone();
        let every = self.config.heartbeat_interval();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                if let Err(err) = instances.heartbeat(&worker, clock.now()).await {
                    log::warn!("heartbeat of {worker} failed: {}", one_line(&err));
                }
            }
        })
    }
}
