//! The reader thread's side of an import: records read and parsed into batches, sent on
//! through a bounded channel (so that reading stays at most a couple of batches ahead).

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

/// The reader thread: reads and parses records into batches of `batch_size` and sends them,
/// until the input ends, an error stops it (sent on), or the import stops listening.
pub(super) fn read_batches<K: Kind + 'static>(
    mut records: Box<dyn RecordReader>,
    batch_size: usize,
    sender: mpsc::Sender<Result<Read<K::Row>, ImportError>>,
) {
    loop {
        let mut batch = Batch {
            lines: Vec::with_capacity(batch_size),
            rows: Vec::with_capacity(batch_size),
            rejects: Vec::new(),
            read: 0,
            first_line: 0,
            bytes: 0,
        };
        let mut ended = false;
        while batch.read < batch_size as u64 {
            let record = match records.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => {
                    ended = true;
                    break;
                }
                Err(e) => {
                    let _ = sender.blocking_send(Err(e));
                    return;
                }
            };
            if batch.read == 0 {
                batch.first_line = record.line;
            }
            batch.read += 1;
            batch.bytes = record.bytes;
            match record.values.and_then(|values| K::parse(&values)) {
                Ok(row) => {
                    batch.lines.push(record.line);
                    batch.rows.push(row);
                }
                Err(problems) => batch.rejects.push(Reject {
                    line: record.line,
                    problems,
                }),
            }
        }
        if batch.read > 0 && sender.blocking_send(Ok(Read::Batch(batch))).is_err() {
            return;
        }
        if ended {
            let _ = sender.blocking_send(Ok(Read::End));
            return;
        }
    }
}
