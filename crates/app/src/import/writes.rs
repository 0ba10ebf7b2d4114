//! Batches being written, a few at a time: each is written by a task of its own, in one
//! transaction, and answered in the order it was read. A batch that names an external id a
//! batch still being written names waits for that one, so that two rows with one id are
//! written in file order, as one writer at a time would (the first creates, the second finds
//! it or is refused), and the rejects report does not depend on which transaction won.

use std::collections::{HashSet, VecDeque};

use antaeus_core::ServiceError;
use tokio::task::JoinHandle;

use super::batches::Batch;
use super::{Kind, Written};

/// What storage answered for a batch: one answer per row, in order.
pub(super) type Answers = Result<Vec<Written>, ServiceError>;

/// A batch handed to a writing task.
struct Write<R> {
    /// The batch, its rows handed to the task.
    batch: Batch<R>,
    /// Its rows' external ids (kept only while other batches are written alongside).
    keys: HashSet<String>,
    /// The task writing its rows.
    task: JoinHandle<Answers>,
}

/// The batches being written, oldest first.
pub(super) struct Writes<R> {
    depth: usize,
    in_flight: VecDeque<Write<R>>,
}

impl<R: Send + 'static> Writes<R> {
    /// Up to `depth` batches written at once (at least one).
    pub fn new(depth: usize) -> Self {
        Self {
            depth: depth.max(1),
            in_flight: VecDeque::new(),
        }
    }

    /// Whether another batch may start.
    pub fn has_room(&self) -> bool {
        self.in_flight.len() < self.depth
    }

    /// Whether `batch` names an external id a batch being written names.
    pub fn overlaps<K: Kind<Row = R>>(&self, batch: &Batch<R>) -> bool {
        !self.in_flight.is_empty()
            && batch
                .rows
                .iter()
                .filter_map(K::key)
                .any(|key| self.in_flight.iter().any(|w| w.keys.contains(key)))
    }

    /// Starts writing `batch` (see [`Writes::overlaps`]: the caller waits for the batches it
    /// overlaps first).
    pub fn start<K: Kind<Row = R>>(&mut self, kind: &K, mut batch: Batch<R>) {
        let keys = if self.depth > 1 {
            batch
                .rows
                .iter()
                .filter_map(K::key)
                .map(str::to_owned)
                .collect()
        } else {
            HashSet::new()
        };
        let rows = std::mem::take(&mut batch.rows);
        let task = if rows.is_empty() {
            tokio::spawn(async { Ok(Vec::new()) })
        } else {
            tokio::spawn(kind.write(rows))
        };
        self.in_flight.push_back(Write { batch, keys, task });
    }

    /// The oldest batch being written, once written, with its answers; `None` when none is.
    pub async fn next(&mut self) -> Option<(Batch<R>, Answers)> {
        let write = self.in_flight.pop_front()?;
        let answers = write.task.await.unwrap_or_else(|e| {
            Err(ServiceError::Invalid(format!(
                "the batch's writer stopped: {e}"
            )))
        });
        Some((write.batch, answers))
    }

    /// Waits for every batch being written (the import stopped: each is written whole or not
    /// at all, and nothing is left running).
    pub async fn settle(&mut self) {
        while self.next().await.is_some() {}
    }
}
