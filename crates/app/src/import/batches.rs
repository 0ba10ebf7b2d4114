//! The reader thread's side of an import: records read and parsed into batches, sent on
//! through a bounded channel (so that reading stays at most a couple of batches ahead).

use std::collections::HashSet;

use tokio::sync::mpsc;

use super::format::RecordReader;
use super::rejects::Reject;
use super::{ImportError, Kind};

/// What the reader thread sends.
pub(super) enum Read<R> {
    /// The next batch.
    Batch(Batch<R>),
    /// The input ended.
    End,
}

/// Rows read by the reader thread, parsed, for one transaction.
pub(super) struct Batch<R> {
    /// The line of each row.
    pub lines: Vec<u64>,
    /// The rows read, in order.
    pub rows: Vec<R>,
    /// Rows that could not be parsed.
    pub rejects: Vec<Reject>,
    /// Records read, parsed or not.
    pub read: u64,
    /// The first record's line.
    pub first_line: u64,
    /// Input bytes read up to the end of the batch.
    pub bytes: u64,
}

impl<R> Batch<R> {
    fn with_capacity(batch_size: usize) -> Self {
        Self {
            lines: Vec::with_capacity(batch_size),
            rows: Vec::with_capacity(batch_size),
            rejects: Vec::new(),
            read: 0,
            first_line: 0,
            bytes: 0,
        }
    }
}

/// The reader thread: reads and parses records into batches of `batch_size` and sends them,
/// until the input ends, an error stops it (sent on), or the import stops listening.
///
/// A row whose external id a row of the batch already names ends the batch and starts the
/// next: a batch never names an id twice, and batches naming one id are written one after
/// the other (see `writes`), so repeated rows are applied in file order, one after another,
/// whatever the batch size (the first creates, the next update or find it, or are refused).
pub(super) fn read_batches<K: Kind + 'static>(
    mut records: Box<dyn RecordReader>,
    batch_size: usize,
    sender: mpsc::Sender<Result<Read<K::Row>, ImportError>>,
) {
    let send = |batch: Batch<K::Row>| sender.blocking_send(Ok(Read::Batch(batch))).is_ok();
    let mut batch = Batch::with_capacity(batch_size);
    let mut keys: HashSet<String> = HashSet::new();
    loop {
        let record = match records.next_record() {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(e) => {
                let _ = sender.blocking_send(Err(e));
                return;
            }
        };
        let parsed = record.values.and_then(|values| K::parse(&values));
        let key = parsed.as_ref().ok().and_then(K::key).map(str::to_owned);
        if key.as_ref().is_some_and(|k| keys.contains(k)) {
            if !send(std::mem::replace(
                &mut batch,
                Batch::with_capacity(batch_size),
            )) {
                return;
            }
            keys.clear();
        }
        if batch.read == 0 {
            batch.first_line = record.line;
        }
        batch.read += 1;
        batch.bytes = record.bytes;
        match parsed {
            Ok(row) => {
                batch.lines.push(record.line);
                batch.rows.push(row);
                keys.extend(key);
            }
            Err(problems) => batch.rejects.push(Reject {
                line: record.line,
                problems,
            }),
        }
        if batch.read >= batch_size as u64 {
            if !send(std::mem::replace(
                &mut batch,
                Batch::with_capacity(batch_size),
            )) {
                return;
            }
            keys.clear();
        }
    }
    if batch.read > 0 && !send(batch) {
        return;
    }
    let _ = sender.blocking_send(Ok(Read::End));
}
