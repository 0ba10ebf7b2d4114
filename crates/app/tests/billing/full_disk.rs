//! Drill: the disk holding the SQLite database fills up (a small tmpfs). `antaeus bill` stops
//! with one line saying so, the file is intact, nothing is lost, and once space returns the
//! next run finishes the work. Skipped, with a line saying so, where no tmpfs can be mounted.

mod drill;

use std::time::Instant;

use antaeus_app::provider::SimulatedPaymentProvider;
use antaeus_core::store::AttemptStore;
use antaeus_data::Database;
use antaeus_models::{InvoiceStatus, RunStatus};

use crate::helpers::all_invoices;
use drill::{Drill, runs};

const INVOICES: usize = 3_000;
/// Room for the database and its WAL: a complete run of `INVOICES` peaks at about 5.5 MiB.
const DISK_MIB: u32 = 16;
/// Free space left for the run that fills the disk: enough to start, a tenth of what it needs.
const ROOM_FOR_PART_OF_A_RUN: u64 = 1 << 20;
/// What `antaeus bill` must say, whichever write found the disk full.
const FULL_DISK: &str = "no space left on the disk holding the database";

/// The disk is full before `antaeus bill` starts: it cannot even open the database (SQLite
/// cannot create its WAL index) and says the disk is full; nothing was touched.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bill_on_a_full_disk_fails_with_one_clear_line_and_the_next_run_completes() {
    let started = Instant::now();
    let test =
        "full_disk::bill_on_a_full_disk_fails_with_one_clear_line_and_the_next_run_completes";
    let Some((drill, stopped)) = Drill::run_out_of_space(test, 0).await else {
        return;
    };
    let invoices = all_invoices(&stopped.db).await;
    assert_eq!(invoices.len(), INVOICES);
    assert!(
        invoices
            .iter()
            .all(|i| i.status == InvoiceStatus::Pending && i.attempts == 0),
        "the failed run changed nothing"
    );
    assert_eq!(drill.provider.summary().calls, 0);

    let finished = drill.finish(&stopped.db).await;
    eprintln!(
        "full disk before the run: {INVOICES} invoices; bill failed in {:?}: {}; \
         after space returned: {finished}; test {:?}",
        stopped.took,
        stopped.line,
        started.elapsed()
    );
}

/// The disk fills part-way through a run (the WAL outgrows the room left): the run stops with
/// one clear line, claims and their intent rows stay for the next run to take over, nothing
/// recorded is wrong, and once space returns the next run resumes the stopped one and
/// charges nobody twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_disk_filling_during_a_run_loses_nothing_and_the_next_run_finishes_it() {
    let started = Instant::now();
    let test = "full_disk::a_disk_filling_during_a_run_loses_nothing_and_the_next_run_finishes_it";
    let Some((drill, stopped)) = Drill::run_out_of_space(test, ROOM_FOR_PART_OF_A_RUN).await else {
        return;
    };
    let progress = assert_nothing_lost(&stopped.db, &drill.provider).await;
    assert!(
        progress.calls > 0,
        "the run got going before the disk filled"
    );
    assert!(
        progress.left > 0,
        "the disk filled before the run's end: {progress:?}"
    );
    let runs = runs(&stopped.db).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].status,
        RunStatus::Running,
        "its end could not be written"
    );

    // Run again at once, as an operator would: the new run waits out the stopped one's lease,
    // then takes over its claims (same keys) and resumes the run itself.
    let finished = drill.finish(&stopped.db).await;
    eprintln!(
        "disk full during the run: {INVOICES} invoices, {} KiB free; bill failed in {:?} \
         after {} provider calls ({} recorded paid, {} still claimed, {} left to do): {}; \
         after space returned: {finished}; test {:?}",
        ROOM_FOR_PART_OF_A_RUN / 1024,
        stopped.took,
        progress.calls,
        progress.paid,
        progress.claimed,
        progress.left,
        stopped.line,
        started.elapsed()
    );
}

/// How far the stopped run got.
#[derive(Debug)]
struct Progress {
    calls: u64,
    paid: usize,
    claimed: usize,
    left: usize,
}

/// Asserts what a run stopped by a full disk leaves: nobody charged twice; whatever was
/// recorded is right (PAID was charged once, FAILED has a reason and no charge, a declined
/// invoice has its next attempt, a completed call its outcome); an invoice the run did not
/// finish is still claimed with its call's intent row open, or untouched and due; every
/// provider call has its row.
async fn assert_nothing_lost(db: &Database, provider: &SimulatedPaymentProvider) -> Progress {
    let ledger = provider.summary();
    assert!(ledger.double_charged.is_empty(), "{ledger:?}");
    let invoices = all_invoices(db).await;
    assert_eq!(invoices.len(), INVOICES);
    let (mut paid, mut claimed, mut left, mut rows) = (0, 0, 0, 0_u64);
    for invoice in &invoices {
        let log = db.list_attempts(invoice.id).await.unwrap();
        rows += log.len() as u64;
        assert_eq!(log.len() as u32, invoice.attempts, "{invoice:?} {log:?}");
        let charges = provider.charges_of(invoice.id);
        // A claim's call stays open; every other row was completed with its outcome.
        let open = log.iter().filter(|a| a.outcome.is_none()).count();
        let may_be_open = usize::from(invoice.status == InvoiceStatus::Charging);
        assert!(open <= may_be_open, "{invoice:?} {log:?}");
        match invoice.status {
            InvoiceStatus::Paid => {
                paid += 1;
                assert_eq!(charges, 1, "{invoice:?}");
            }
            InvoiceStatus::Failed => {
                assert!(invoice.failure_reason.is_some(), "{invoice:?}");
                assert_eq!(charges, 0, "{invoice:?}");
            }
            InvoiceStatus::Void => panic!("nobody voided {invoice:?}"),
            InvoiceStatus::Pending if invoice.attempts == 0 => left += 1,
            InvoiceStatus::Pending => {
                assert!(invoice.next_attempt_at.is_some(), "{invoice:?}");
                assert!(charges <= 1, "{invoice:?}");
            }
            InvoiceStatus::Charging => {
                claimed += 1;
                left += 1;
                match log.last() {
                    Some(last) => assert!(last.outcome.is_none(), "an open call: {log:?}"),
                    // Claimed to be failed without a call (a currency mismatch).
                    None => assert_eq!(charges, 0, "a call without its row: {invoice:?}"),
                }
                assert!(charges <= 1, "{invoice:?}");
            }
        }
    }
    assert!(rows >= ledger.calls, "{rows} rows, {ledger:?}");
    Progress {
        calls: ledger.calls,
        paid,
        claimed,
        left,
    }
}
