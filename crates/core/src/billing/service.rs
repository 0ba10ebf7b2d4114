//! `BillingService`: starts billing runs and drives them to the end.

use std::sync::Arc;

use antaeus_models::{
    BillingRun, IdempotencyKey, InstanceId, RunId, RunScope, RunStatus, RunTrigger,
};
use thiserror::Error;

use super::random::Randomness;
use super::{BillingConfig, BreakerState, CircuitBreaker};
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
    /// The instance is shutting down and starts no run.
    #[error("this instance is shutting down")]
    ShuttingDown,
    /// The idempotency key names a run that another request created.
    #[error("idempotency key {key} was already used by a different request (run {run})")]
    KeyReused {
        /// The key.
        key: IdempotencyKey,
        /// The run it names.
        run: RunId,
    },
}

/// A request to start a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRequest {
    /// Names the run: the same key always names the same run.
    pub key: IdempotencyKey,
    /// What starts it.
    pub trigger: RunTrigger,
    /// Which due invoices it charges.
    pub scope: RunScope,
    /// Identifies what the run is asked to do (its scope), so that a key reused for a different
    /// run is refused. Who asks (the scheduler, EventBridge, the API, the CLI) and how the
    /// request was worded are not part of it: an operator replaying an EventBridge event's id
    /// by hand names the same run.
    pub fingerprint: String,
}

impl RunRequest {
    /// A request, by `trigger`, for the run named `key` that charges the invoices of `scope`.
    pub fn new(key: IdempotencyKey, trigger: RunTrigger, scope: RunScope) -> Self {
        Self {
            key,
            trigger,
            scope,
            fingerprint: Self::fingerprint_of(scope),
        }
    }

    /// The fingerprint of a request for a run of `scope`.
    pub fn fingerprint_of(scope: RunScope) -> String {
        format!("scope={scope}")
    }
}

/// Charges every due invoice, once per run, keeping the billing invariants: an invoice is
/// charged at most once, every due invoice ends the run PAID, FAILED or PENDING with a next
/// attempt, and every provider call is in the attempt log.
#[derive(Clone)]
pub struct BillingService {
    pub(super) deps: BillingDeps,
    pub(super) config: BillingConfig,
    pub(super) breaker: Arc<CircuitBreaker>,
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

    /// Provider calls this instance is making now.
    pub fn calls_in_flight(&self) -> usize {
        self.breaker.calls_in_flight()
    }

    /// The settings.
    pub fn config(&self) -> &BillingConfig {
        &self.config
    }

    /// Creates the run `request` names, or returns the run that already has its key (`false`);
    /// a key created by a different request is [`BillingError::KeyReused`].
    pub async fn create_run(
        &self,
        request: &RunRequest,
    ) -> Result<(BillingRun, bool), BillingError> {
        let new = NewRun {
            idempotency_key: request.key.clone(),
            trigger: request.trigger,
            instance: self.new_worker_id(),
            now: self.deps.clock.now(),
            request_fingerprint: request.fingerprint.clone(),
            scope: request.scope,
        };
        let (run, created) = self.deps.runs.create_run(&new).await?;
        if !created
            && run
                .request_fingerprint
                .as_ref()
                .is_some_and(|stored| *stored != request.fingerprint)
        {
            return Err(BillingError::KeyReused {
                key: request.key.clone(),
                run: run.id,
            });
        }
        Ok((run, created))
    }

    /// Takes over a RUNNING run whose instance stopped heartbeating, so that a redelivered
    /// trigger finishes what a crashed instance started; `None` when the run is not abandoned.
    pub async fn adopt_if_abandoned(
        &self,
        run: &BillingRun,
    ) -> Result<Option<BillingRun>, BillingError> {
        if run.status != RunStatus::Running {
            return Ok(None);
        }
        self.adopt(run.id).await
    }

    /// Takes over up to `limit` RUNNING runs whose instances went silent past the lease: a run
    /// whose instance died after the last trigger that named it would otherwise stay open.
    pub async fn adopt_abandoned(&self, limit: u32) -> Result<Vec<BillingRun>, BillingError> {
        let mut adopted = Vec::new();
        for id in self
            .deps
            .runs
            .abandoned_runs(self.config.lease(), limit)
            .await?
        {
            // Another instance may adopt it first: then it is not ours to drive.
            adopted.extend(self.adopt(id).await?);
        }
        Ok(adopted)
    }

    async fn adopt(&self, id: RunId) -> Result<Option<BillingRun>, BillingError> {
        let adopted = self
            .deps
            .runs
            .adopt_run(id, &self.new_worker_id(), self.config.lease())
            .await?;
        if let Some(run) = &adopted {
            log::warn!(
                "billing run {} was abandoned by its instance; resuming it as {}",
                run.id,
                run.instance_id
            );
        }
        Ok(adopted)
    }

    /// Creates the run `request` names and drives it to its end; a key that names an existing
    /// run returns that run and starts nothing.
    pub async fn bill(
        &self,
        request: &RunRequest,
        shutdown: Shutdown,
    ) -> Result<BillingRun, BillingError> {
        let (run, created) = self.create_run(request).await?;
        if !created {
            return Ok(run);
        }
        self.execute(run, shutdown).await
    }

    /// Swaps the payment provider (tests that script the provider after building the service).
    #[cfg(test)]
    pub(crate) fn replace_provider_for_tests(&mut self, provider: Arc<dyn PaymentProvider>) {
        self.deps.provider = provider;
    }

    pub(super) fn new_worker_id(&self) -> InstanceId {
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
}
