//! Batches journal entries into few transactions: the outcome writer of the pipeline.
//!
//! Charging tasks hand entries over a bounded channel; the writer gathers them for up to a
//! flush interval or a batch size and applies each batch in one transaction. Resends wait for
//! the acknowledgement, because their intent row must be stored before the call; finishes do not
//! need to (a lost finish leaves the claim to be taken over and resent under the same key).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use antaeus_models::{InstanceId, InvoiceId};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::JournalConfig;
use crate::error_report::one_line;
use crate::store::{BillingStore, JournalEntry};

/// What became of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteAck {
    /// Stored.
    Applied,
    /// Not applied: another instance owns the invoice now.
    FencedOut,
    /// Storage kept failing; the entry is lost (the claim will be taken over).
    Failed,
}

enum Command {
    Write(JournalEntry, Option<oneshot::Sender<WriteAck>>),
    Flush(oneshot::Sender<()>),
}

/// The handle charging tasks write through. Dropping every handle ends the writer after it
/// has written what it holds.
#[derive(Clone)]
pub struct JournalWriter {
    tx: mpsc::Sender<Command>,
    failed: Failure,
}

/// Why the writer gave up on a batch (the first time), shared with its handles.
#[derive(Clone, Default)]
struct Failure(Arc<Mutex<Option<String>>>);

impl Failure {
    fn set(&self, why: impl Into<String>) {
        let mut failure = self.0.lock().unwrap_or_else(|p| p.into_inner());
        failure.get_or_insert_with(|| why.into());
    }

    fn get(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl JournalWriter {
    /// Starts a writer for `instance`; returns the handle and the task, which ends once every
    /// handle is dropped, returning `false` if some batch could not be written.
    pub fn spawn(
        store: Arc<dyn BillingStore>,
        instance: InstanceId,
        config: JournalConfig,
    ) -> (Self, JoinHandle<bool>) {
        let (tx, rx) = mpsc::channel(queue_bound(&config));
        let failed = Failure::default();
        let task = tokio::spawn(run(store, instance, config, rx, failed.clone()));
        (Self { tx, failed }, task)
    }

    /// Why some batch could not be written, if one could not: the run must stop, so that its
    /// claims go stale and are taken over.
    pub fn failure(&self) -> Option<String> {
        self.failed.get()
    }

    /// Queues `entry` without waiting for it to be stored (only for room in the queue).
    ///
    /// Not an `async fn`, whose future would hold `entry` twice (as its argument and as its
    /// local): see [`JournalWriter::room`] for why the size counts.
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold `entry` twice"
    )]
    pub fn write(&self, entry: JournalEntry) -> impl Future<Output = ()> + Send + '_ {
        async move {
            match self.room().await {
                Some(room) => room.send(Command::Write(entry, None)),
                // The writer is gone: the entry is lost, so the run must stop and let its
                // claims be taken over.
                None => self.failed.set("the journal writer stopped"),
            }
        }
    }

    /// Queues `entry` and waits until it is stored (or refused). Not an `async fn`, as
    /// [`JournalWriter::write`].
    #[expect(
        clippy::manual_async_fn,
        reason = "an async fn would hold `entry` twice"
    )]
    pub fn write_and_wait(
        &self,
        entry: JournalEntry,
    ) -> impl Future<Output = WriteAck> + Send + '_ {
        async move {
            let Some(room) = self.room().await else {
                return WriteAck::Failed;
            };
            let (ack, done) = oneshot::channel();
            room.send(Command::Write(entry, Some(ack)));
            done.await.unwrap_or(WriteAck::Failed)
        }
    }

    /// Room for one entry in the queue (`None`: the writer is gone).
    ///
    /// Every charging task awaits this once or more, and a run holds up to twice its call
    /// slots of tasks, each as large as its largest state: the wait for room (128 bytes) is
    /// boxed, so only a task that meets a full queue pays for it. The room comes
    /// before the entry, which the queue's `send` would hold a second time.
    async fn room(&self) -> Option<mpsc::Permit<'_, Command>> {
        match self.tx.try_reserve() {
            Ok(room) => Some(room),
            Err(mpsc::error::TrySendError::Full(())) => Box::pin(self.tx.reserve()).await.ok(),
            Err(mpsc::error::TrySendError::Closed(())) => None,
        }
    }

    /// Waits until everything queued before this call is stored.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.tx.send(Command::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }
}

/// How many entries may wait for the writer: one batch, gathered while the one before is
/// written. More only holds more claims' outcomes in memory: the charging tasks that find the
/// queue full wait (holding their entries), and the run starts no task beyond its bound.
fn queue_bound(config: &JournalConfig) -> usize {
    config.max_batch.max(1)
}

async fn run(
    store: Arc<dyn BillingStore>,
    instance: InstanceId,
    config: JournalConfig,
    mut rx: mpsc::Receiver<Command>,
    failure: Failure,
) -> bool {
    let mut failed = false;
    let (mut batches, mut written_entries, mut writing) = (0_usize, 0_usize, Duration::ZERO);
    let mut entries = Vec::with_capacity(config.max_batch);
    let mut acks: Vec<(usize, oneshot::Sender<WriteAck>)> = Vec::new();
    let mut flushes = Vec::new();
    while let Some(first) = rx.recv().await {
        let deadline = Instant::now() + config.flush_interval;
        let mut next = Some(first);
        loop {
            match next.take() {
                Some(Command::Write(entry, ack)) => {
                    if let Some(ack) = ack {
                        acks.push((entries.len(), ack));
                    }
                    entries.push(entry);
                }
                Some(Command::Flush(done)) => {
                    flushes.push(done);
                    break;
                }
                None => {}
            }
            if entries.len() >= config.max_batch {
                break;
            }
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(cmd)) => next = Some(cmd),
                Ok(None) | Err(_) => break,
            }
        }
        if !entries.is_empty() {
            let write_started = Instant::now();
            // Once a batch was given up on, storage is known to be failing and the run is
            // stopping: later batches get one try each, not the whole wait again.
            let patience = if failed {
                Duration::ZERO
            } else {
                config.give_up_after
            };
            let written = write_batch(store.as_ref(), &instance, &entries, patience).await;
            batches += 1;
            written_entries += entries.len();
            writing += write_started.elapsed();
            if let Err(why) = &written {
                failed = true;
                failure.set(why.clone());
            }
            for (index, ack) in acks.drain(..) {
                let result = match &written {
                    Err(_) => WriteAck::Failed,
                    Ok(fenced) if fenced.contains(&entries[index].invoice()) => WriteAck::FencedOut,
                    Ok(_) => WriteAck::Applied,
                };
                let _ = ack.send(result);
            }
            entries.clear();
        }
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
    log::debug!(
        "journal of {instance}: {batches} batches of {:.0} entries on average, {writing:?} writing",
        written_entries as f64 / batches.max(1) as f64
    );
    !failed
}

/// Writes one batch, retrying storage failures with backoff for up to `give_up_after`.
/// Returns the fenced-out invoices, or why the batch could not be written.
async fn write_batch(
    store: &dyn BillingStore,
    instance: &InstanceId,
    entries: &[JournalEntry],
    give_up_after: Duration,
) -> Result<Vec<InvoiceId>, String> {
    let started = Instant::now();
    let mut wait = Duration::from_millis(50);
    loop {
        match store.record(instance, entries).await {
            Ok(report) => {
                for invoice in &report.fenced_out {
                    log::warn!(
                        "invoice {invoice}: claim lost to another instance; its outcome stays with the new owner"
                    );
                }
                return Ok(report.fenced_out);
            }
            Err(err) if started.elapsed() < give_up_after => {
                log::warn!(
                    "recording {} billing outcomes failed, retrying in {wait:?}: {}",
                    entries.len(),
                    one_line(&err)
                );
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(err) => {
                let why = one_line(&err);
                log::error!(
                    "giving up recording {} billing outcomes: {why}; their claims will be taken over and resent under the same keys",
                    entries.len(),
                );
                return Err(why);
            }
        }
    }
}
