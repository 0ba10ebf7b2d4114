//! The journal writer's queue: how many outcomes wait in memory while a batch is written.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc as std_mpsc};
use std::time::Duration;

use antaeus_models::{AttemptOutcome, IdempotencyKey, InstanceId, InvoiceId, RunId};
use chrono::Utc;

use super::journal_writer::JournalWriter;
use crate::billing::JournalConfig;
use crate::store::{AttemptCompletion, JournalEntry, MockBillingStore, RecordReport};

fn resend(invoice: i64) -> JournalEntry {
    JournalEntry::Resend {
        invoice: InvoiceId::new(invoice).unwrap(),
        run: RunId::new(1).unwrap(),
        fence: 1,
        completed: AttemptCompletion {
            number: 1,
            outcome: AttemptOutcome::NetworkError,
            message: None,
            decline_code: None,
            provider_ref: None,
            finished_at: Utc::now(),
        },
        key: IdempotencyKey::parse("k").unwrap(),
        started_at: Utc::now(),
    }
}

/// While the writer stores a full batch, one more batch waits in its queue and no more: the
/// next charging task to finish waits for room (holding its outcome), and the run starts no
/// task beyond its bound, so memory stays in proportion to the batch. (The queue held four
/// batches before; each waiting outcome is an entry with its event, about a kilobyte.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_holds_one_batch_beside_the_one_being_written() {
    let max_batch = 4;
    let (release, released) = std_mpsc::channel::<()>();
    let released = Mutex::new(released);
    let recorded = Arc::new(AtomicUsize::new(0));
    let mut store = MockBillingStore::new();
    let counted = recorded.clone();
    store.expect_record().returning(move |_, batch| {
        // The first batch is stored only once the test says so (this blocks the writer's
        // thread, not the test's).
        if counted.fetch_add(batch.len(), Ordering::SeqCst) == 0 {
            released.lock().unwrap().recv().unwrap();
        }
        Ok(RecordReport::default())
    });
    let config = JournalConfig {
        max_batch,
        // A batch closes on its size, never on time, so that the first holds exactly four.
        flush_interval: Duration::from_secs(60),
        give_up_after: Duration::from_secs(60),
    };
    let (writer, task) = JournalWriter::spawn(
        Arc::new(store),
        InstanceId::parse("here-1").unwrap(),
        config,
    );

    let mut queued = 0;
    while queued < 100 {
        let write = writer.write(resend(queued + 1));
        if tokio::time::timeout(Duration::from_millis(500), write)
            .await
            .is_err()
        {
            break;
        }
        queued += 1;
    }
    assert_eq!(
        queued,
        2 * max_batch as i64,
        "outcomes taken while a batch of {max_batch} is written"
    );

    // Once the batch is stored, the waiting outcome goes in, and every one is recorded.
    release.send(()).unwrap();
    writer.write(resend(queued + 1)).await;
    drop(writer);
    assert!(task.await.unwrap(), "every batch written");
    assert_eq!(recorded.load(Ordering::SeqCst), 2 * max_batch + 1);
}
