//! Bulk import of customers and invoices from CSV or NDJSON.
//!
//! A reader thread streams the input record by record, parses each row and hands batches on
//! through a channel of two; the import writes each batch in one transaction through the
//! services (customers upserted by external id, invoices found by theirs; on PostgreSQL a few
//! batches at once, answered in file order: see `writes`), so running the same file twice
//! changes nothing, and memory holds a few batches whatever the file's size. A bad row, or one
//! storage refuses (a currency conflict, an unknown customer), is a reject: its line, field and
//! reason go to the rejects report and the import goes on. Only a wrong header,
//! an unreadable input or failing storage stops it (see [`ImportError`]).

mod batches;
mod customers;
mod error;
mod format;
mod invoices;
mod progress;
mod read_csv;
mod read_ndjson;
mod rejects;
mod rows;
mod schema;
mod writes;

use std::future::Future;
use std::time::{Duration, Instant};

use antaeus_core::service::Created;
use antaeus_core::{CustomerService, InvoiceService, ServiceError};
use tokio::sync::mpsc;

pub use error::ImportError;
pub use format::{Format, Source};
pub use rejects::{Problem, Reject, Rejects};

use self::batches::{Batch, Read, read_batches};
use self::customers::Customers;
use self::invoices::Invoices;
use self::progress::ImportProgress;
use self::schema::{Schema, Values};
use self::writes::{Answers, Writes};

/// Rows per batch (one transaction) unless told otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 1_000;

/// How an import reads its input.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Where the rows come from.
    pub source: Source,
    /// How they are written.
    pub format: Format,
    /// Rows per transaction.
    pub batch_size: usize,
    /// Batches written at once, each in a transaction of its own (1: one after the other).
    pub writers: usize,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Data rows read.
    pub read: u64,
    /// Rows that created a customer or invoice.
    pub created: u64,
    /// Rows that changed a known customer (an invoice is never changed: see `existing`).
    pub updated: u64,
    /// Rows whose external id was known and that changed nothing: the customer as it was, the
    /// invoice found as it is.
    pub existing: u64,
    /// Rows refused (see the rejects report).
    pub rejected: u64,
    /// How long the import took.
    pub elapsed: Duration,
}

/// Imports customers (upserted by `externalId`), writing refused rows to `rejects`.
pub async fn import_customers(
    service: CustomerService,
    options: &ImportOptions,
    rejects: &mut Rejects,
) -> Result<ImportReport, ImportError> {
    run(Customers(service), options, rejects).await
}

/// Imports invoices (found by their customer and `externalId`), writing refused rows to
/// `rejects`.
pub async fn import_invoices(
    service: InvoiceService,
    options: &ImportOptions,
    rejects: &mut Rejects,
) -> Result<ImportReport, ImportError> {
    run(Invoices(service), options, rejects).await
}

/// What became of a row written: created, changed, found as it was, or refused by storage.
enum Written {
    Created,
    Updated,
    Existing,
    Refused(Vec<Problem>),
}

impl Written {
    /// What a service answered for a row: refusals become problems by `refusal`.
    fn from<T>(
        answer: Result<Created<T>, ServiceError>,
        refusal: impl FnOnce(&ServiceError) -> Vec<Problem>,
    ) -> Self {
        match answer {
            Ok(Created::New(_)) => Written::Created,
            Ok(Created::Found(_)) => Written::Existing,
            Err(refused) => Written::Refused(refusal(&refused)),
        }
    }
}

/// A kind of row an import writes.
trait Kind {
    /// A row read, ready to write.
    type Row: Send + 'static;

    /// Its columns.
    const SCHEMA: &'static Schema;

    /// A row's values as a row to write, or every problem with them.
    fn parse(values: &Values) -> Result<Self::Row, Vec<Problem>>;

    /// The row's external id: two rows with one are never written at once.
    fn key(row: &Self::Row) -> Option<&str>;

    /// Writes `rows` in one transaction: one answer per row, in order.
    fn write(
        &self,
        rows: Vec<Self::Row>,
    ) -> impl Future<Output = Result<Vec<Written>, ServiceError>> + Send + 'static;
}

async fn run<K: Kind + 'static>(
    kind: K,
    options: &ImportOptions,
    rejects: &mut Rejects,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let (input, size) = options.source.open()?;
    let records = format::records(input, options.source.name(), options.format, K::SCHEMA)?;
    let progress = ImportProgress::start(size);
    let (sender, mut batches) = mpsc::channel(2);
    let batch_size = options.batch_size.max(1);
    std::thread::Builder::new()
        .name("import-reader".into())
        .spawn(move || read_batches::<K>(records, batch_size, sender))
        .map_err(|e| ImportError::Read {
            input: options.source.name(),
            reason: format!("cannot start the reader: {e}"),
        })?;

    let mut report = ImportReport::default();
    let mut writes = Writes::new(options.writers);
    let pumped = pump(
        &kind,
        &mut batches,
        &mut writes,
        &options.source,
        rejects,
        &mut report,
        &progress,
    )
    .await;
    if pumped.is_err() {
        writes.settle().await;
    }
    pumped?;
    progress.finish();
    report.elapsed = started.elapsed();
    Ok(report)
}

/// Reads batches and writes them, up to `writes`' depth at once, answering each in order.
async fn pump<K: Kind>(
    kind: &K,
    batches: &mut mpsc::Receiver<Result<Read<K::Row>, ImportError>>,
    writes: &mut Writes<K::Row>,
    source: &Source,
    rejects: &mut Rejects,
    report: &mut ImportReport,
    progress: &ImportProgress,
) -> Result<(), ImportError> {
    let mut ended = false;
    loop {
        while !ended && writes.has_room() {
            let Some(batch) = next_batch(batches, source).await? else {
                ended = true;
                break;
            };
            while writes.overlaps::<K>(&batch) {
                if let Some((done, answers)) = writes.next().await {
                    count_batch(done, answers, report, rejects, progress)?;
                }
            }
            writes.start(kind, batch);
        }
        let Some((done, answers)) = writes.next().await else {
            return Ok(());
        };
        count_batch(done, answers, report, rejects, progress)?;
    }
}

/// Counts a batch written (see [`write_batch`]), reports its rejects and shows the progress.
fn count_batch<R>(
    batch: Batch<R>,
    answers: Answers,
    report: &mut ImportReport,
    rejects: &mut Rejects,
    progress: &ImportProgress,
) -> Result<(), ImportError> {
    let bytes = batch.bytes;
    for reject in write_batch(batch, answers, report)? {
        rejects.add(&reject)?;
    }
    progress.update(report, bytes);
    Ok(())
}

/// The reader's next batch, or `None` once it said the input ended (a reader gone without a
/// word is an error, not the end of the file).
async fn next_batch<R>(
    batches: &mut mpsc::Receiver<Result<Read<R>, ImportError>>,
    source: &Source,
) -> Result<Option<Batch<R>>, ImportError> {
    match batches.recv().await {
        Some(Ok(Read::Batch(batch))) => Ok(Some(batch)),
        Some(Ok(Read::End)) => Ok(None),
        Some(Err(e)) => Err(e),
        None => Err(ImportError::Read {
            input: source.name(),
            reason: "the reader stopped before the end of the input".into(),
        }),
    }
}

/// Counts `batch`, written in one transaction with `answers` (one per row of `batch.lines`),
/// in `report`; answers its rejects (the rows that could not be read and those storage
/// refused), in line order.
fn write_batch<R>(
    batch: Batch<R>,
    answers: Answers,
    report: &mut ImportReport,
) -> Result<Vec<Reject>, ImportError> {
    let storage_error = |cause| ImportError::Storage {
        line: batch.first_line,
        imported: report.created + report.updated + report.existing,
        cause,
    };
    let written = answers.map_err(storage_error)?;
    if written.len() != batch.lines.len() {
        return Err(storage_error(ServiceError::Invalid(format!(
            "storage answered {} of {} rows",
            written.len(),
            batch.lines.len()
        ))));
    }
    let mut rejects = batch.rejects;
    for (line, written) in batch.lines.into_iter().zip(written) {
        match written {
            Written::Created => report.created += 1,
            Written::Updated => report.updated += 1,
            Written::Existing => report.existing += 1,
            Written::Refused(problems) => rejects.push(Reject { line, problems }),
        }
    }
    rejects.sort_by_key(|r| r.line);
    report.read += batch.read;
    report.rejected += rejects.len() as u64;
    Ok(rejects)
}
