//! The size of a charging task's future. A run holds up to twice its call slots of tasks
//! (2,048 at the benchmark's C = 1,024), each as large as its largest state for its whole
//! life, so every hundred bytes here is 200 KB of such a run's peak memory. `async fn` arguments are held
//! twice (as arguments and as locals) and awaited futures are held inline, so an innocent
//! change can double the size; these bounds catch it. Measured sizes on the pinned toolchain
//! (the test profile; release is the same): the task 1,312 bytes (2,472 before the charging
//! path's futures were trimmed; 1,456 with the wait for the provider's turn inline, 1,440 with
//! the wait for room in the journal's queue inline, 1,680 with `charge` an `async fn`), a
//! journal write 248 (784 as an `async fn` around the queue's `send`; 376 with the wait for
//! room inline).

use std::future::Future;
use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

use super::charge::{ChargeContext, charge};
use super::journal_writer::JournalWriter;
use crate::store::{ClaimedInvoice, JournalEntry};

/// The size of the future `start` returns for a claimed invoice (no task is started).
fn task_size<F, Fut>(_start: F) -> usize
where
    F: Fn(Arc<ChargeContext>, ClaimedInvoice, Option<OwnedSemaphorePermit>) -> Fut,
    Fut: Future,
{
    std::mem::size_of::<Fut>()
}

/// The size of the future `write` returns for an entry.
fn write_size<'a, F, Fut>(_write: F) -> usize
where
    F: Fn(&'a JournalWriter, JournalEntry) -> Fut,
    Fut: Future + 'a,
{
    std::mem::size_of::<Fut>()
}

#[test]
fn a_charging_task_holds_its_claimed_invoice_once_and_no_large_wait_inline() {
    let claimed = std::mem::size_of::<ClaimedInvoice>();
    let size = task_size(charge);
    // The claimed invoice (360 bytes) is the one part every state needs; each of the changes
    // named above passes this bound.
    assert!(
        size <= 1_400,
        "a charging task's future is {size} bytes (its claimed invoice {claimed})"
    );
}

#[test]
fn a_journal_write_holds_its_entry_once_and_no_wait_inline() {
    let entry = std::mem::size_of::<JournalEntry>();
    for (name, size) in [
        ("write", write_size(JournalWriter::write)),
        ("write_and_wait", write_size(JournalWriter::write_and_wait)),
    ] {
        // The entry (192 bytes) and little else: held twice, or with the wait for room inline
        // (128 bytes), the future passes 256.
        assert!(
            size <= 256,
            "{name}'s future is {size} bytes, the entry {entry}"
        );
    }
}
