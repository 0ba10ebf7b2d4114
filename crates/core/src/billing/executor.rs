//! Runs billing in the background: what the HTTP trigger and the scheduler start.

use std::sync::Mutex;
use std::time::Duration;

use antaeus_models::BillingRun;
use tokio::task::JoinSet;

use super::{BillingError, BillingService, OnStop, RunRequest};
use crate::error_report::one_line;
use crate::{Shutdown, ShutdownTrigger};

/// Most abandoned runs one sweep takes over (the rest wait for the next sweep).
const ABANDONED_PER_SWEEP: u32 = 16;

/// What a trigger did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triggered {
    /// A new run was created and started.
    Started(BillingRun),
    /// The key names a run that exists; nothing was started.
    Existing(BillingRun),
    /// The key names a run whose instance died; it was taken over and restarted.
    Resumed(BillingRun),
}

impl Triggered {
    /// The run, whichever case.
    pub fn run(&self) -> &BillingRun {
        match self {
            Triggered::Started(run) | Triggered::Existing(run) | Triggered::Resumed(run) => run,
        }
    }
}

/// Starts runs in the background and stops them gracefully.
pub struct RunExecutor {
    billing: BillingService,
    running: Mutex<JoinSet<()>>,
    stop: ShutdownTrigger,
    shutdown: Shutdown,
}

impl RunExecutor {
    /// An executor driving runs with `billing`.
    pub fn new(billing: BillingService) -> Self {
        let (stop, shutdown) = Shutdown::new();
        Self {
            billing,
            running: Mutex::new(JoinSet::new()),
            stop,
            shutdown,
        }
    }

    /// The billing service the runs use.
    pub fn billing(&self) -> &BillingService {
        &self.billing
    }

    /// Creates the run `request` names and starts it in the background; an existing key starts
    /// nothing, unless its run was abandoned by a dead instance, which is then resumed.
    pub async fn trigger(&self, request: &RunRequest) -> Result<Triggered, BillingError> {
        if self.shutdown.is_requested() {
            // Shutting down: record nothing new; the caller's retry reaches another instance.
            return Err(BillingError::ShuttingDown);
        }
        let (run, created) = self.billing.create_run(request).await?;
        if created {
            self.start(run.clone());
            return Ok(Triggered::Started(run));
        }
        match self.billing.adopt_if_abandoned(&run).await? {
            Some(adopted) => {
                self.start(adopted.clone());
                Ok(Triggered::Resumed(adopted))
            }
            None => Ok(Triggered::Existing(run)),
        }
    }

    /// Resumes, in the background, runs whose instances died (see
    /// [`BillingService::adopt_abandoned`]); returns them. Nothing while shutting down.
    pub async fn resume_abandoned(&self) -> Result<Vec<BillingRun>, BillingError> {
        if self.shutdown.is_requested() {
            return Ok(Vec::new());
        }
        let adopted = self.billing.adopt_abandoned(ABANDONED_PER_SWEEP).await?;
        for run in &adopted {
            self.start(run.clone());
        }
        Ok(adopted)
    }

    /// Looks for abandoned runs every `every` until `shutdown`, resuming them: with no trigger
    /// left to come, this is what ends a run whose instance died.
    pub async fn resume_abandoned_until(&self, every: Duration, mut shutdown: Shutdown) {
        while !shutdown.is_requested() {
            if let Err(err) = self.resume_abandoned().await {
                log::warn!("looking for abandoned runs failed: {}", one_line(&err));
            }
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = shutdown.requested() => {}
            }
        }
    }

    fn start(&self, run: BillingRun) {
        let billing = self.billing.clone();
        let shutdown = self.shutdown.clone();
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        // Reap runs that ended so the set does not grow.
        while running.try_join_next().is_some() {}
        running.spawn(async move {
            let id = run.id;
            // A shutdown hands the run over to the other instances (a deploy never ends a run
            // half-way); with no other instance, this one resumes it when it starts again.
            if let Err(err) = billing.execute_with(run, shutdown, OnStop::HandOver).await {
                log::error!("billing run {id} failed: {}", one_line(&err));
            }
        });
    }

    /// How many runs are being driven now.
    pub fn active(&self) -> usize {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        while running.try_join_next().is_some() {}
        running.len()
    }

    /// Stops the runs gracefully (they release what they have not sent) and waits for them.
    pub async fn stop(&self) {
        self.stop.trigger();
        let mut running =
            std::mem::take(&mut *self.running.lock().unwrap_or_else(|p| p.into_inner()));
        while running.join_next().await.is_some() {}
    }
}
