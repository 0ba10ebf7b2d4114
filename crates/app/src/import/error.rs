//! Why an import stopped (the underlying error, where there is one, is the source: the
//! binary's one-line report shows the whole chain). A bad row never stops an import (it is a reject); these do: a file
//! that cannot be read or whose columns are wrong (before any write), a rejects report that
//! cannot be written, and storage that fails (the rows before the failing batch stay
//! imported; running the same import again finds them and goes on).

use std::path::PathBuf;

use antaeus_core::ServiceError;
use thiserror::Error;

/// Why an import stopped before the end of its file.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The input cannot be opened.
    #[error("cannot open {}", path.display())]
    Open {
        /// The file named.
        path: PathBuf,
        /// Why it cannot be opened.
        #[source]
        cause: std::io::Error,
    },
    /// Reading the input failed part-way.
    #[error("cannot read {input}: {reason}")]
    Read {
        /// The file, or `standard input`.
        input: String,
        /// Why.
        reason: String,
    },
    /// The format cannot be told from the file's name.
    #[error("cannot tell the format of {0}: name it with --format csv or --format ndjson")]
    UnknownFormat(String),
    /// The header (CSV) or first object (NDJSON) lacks a column every row needs.
    #[error("{input} has no {column} column ({kind} need it; the columns are {expected})")]
    MissingColumn {
        /// The file, or `standard input`.
        input: String,
        /// The column missing, e.g. `currency` or `customerExternalId or customerId`.
        column: String,
        /// `customers` or `invoices`.
        kind: &'static str,
        /// The columns an import of this kind reads.
        expected: String,
    },
    /// The header (CSV) or first object (NDJSON) names a column the import does not read.
    #[error("{input} has an unknown column {column:?} (the columns are {expected})")]
    UnknownColumn {
        /// The file, or `standard input`.
        input: String,
        /// The column named.
        column: String,
        /// The columns an import of this kind reads.
        expected: String,
    },
    /// A CSV header names a column twice.
    #[error("{input} names the column {column:?} twice")]
    DuplicateColumn {
        /// The file, or `standard input`.
        input: String,
        /// The column named twice.
        column: String,
    },
    /// The input is empty: not even a header row.
    #[error("{0} is empty: the first line must name the columns")]
    Empty(String),
    /// The rejects report cannot be written.
    #[error("cannot write the rejects to {}", path.display())]
    Rejects {
        /// The report's file.
        path: PathBuf,
        /// Why.
        #[source]
        cause: std::io::Error,
    },
    /// The rejects report would overwrite the input.
    #[error("--rejects names the input file {}: choose another file", .0.display())]
    RejectsOverInput(PathBuf),
    /// Storage failed on a batch; the batch wrote nothing, the ones before it are imported (and
    /// on PostgreSQL, those written alongside it may be).
    #[error(
        "the batch starting on line {line} was not imported ({imported} rows before it were, and batches written alongside it may have been; importing the file again goes on from there)"
    )]
    Storage {
        /// The first line of the batch.
        line: u64,
        /// Rows imported (created or found) before the batch.
        imported: u64,
        /// What storage said.
        #[source]
        cause: ServiceError,
    },
}
