//! `antaeus import customers|invoices FILE`: a bulk import, a one-line summary, the rejects
//! report, and exit status 3 when any row was refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use antaeus_core::{CustomerService, InvoiceService};
use antaeus_data::Backend;
use thiserror::Error;

use crate::cli::{ImportArgs, ImportCommand};
use crate::import::{self, Format, ImportError, ImportOptions, ImportReport, Rejects, Source};
use crate::progress::per_second;
use crate::settings::Settings;
use crate::{startup, wiring};

/// Batches a PostgreSQL import writes at once.
const POSTGRES_WRITERS: usize = 3;

/// The import ended, but refused some rows: `main` exits with status 3.
#[derive(Debug, Error)]
#[error("{rejected} of {read} rows rejected{}", match report {
    Some(path) => format!(": see {}", path.display()),
    None => " (listed above)".to_owned(),
})]
pub struct RowsRejected {
    /// Rows refused.
    pub rejected: u64,
    /// Rows read.
    pub read: u64,
    /// The rejects report's file, if there is one.
    pub report: Option<PathBuf>,
}

/// Imports the file `command` names and prints what it did.
pub async fn import(settings: &Settings, command: ImportCommand) -> anyhow::Result<()> {
    let (kind, args) = match &command {
        ImportCommand::Customers(args) => ("customers", args),
        ImportCommand::Invoices(args) => ("invoices", args),
    };
    let source = Source::from_arg(&args.file);
    let format = source.format(args.format)?;
    let mut rejects = rejects_report(&source, format, args)?;
    let db = if args.dry_run {
        startup::open_database_unchanged(settings)
            .await?
            .into_dry_run()
    } else {
        startup::open_database(settings).await?
    };
    let writers = match db.backend() {
        // PostgreSQL writes batches side by side: while one waits on the server, another's
        // statements run (and its commit is flushed).
        Backend::Postgres => POSTGRES_WRITERS,
        // SQLite has one writer: a second batch only waits for it.
        Backend::Sqlite => 1,
    };
    let store = Arc::new(db);
    let clock = wiring::system_clock();
    let options = ImportOptions {
        source,
        format,
        batch_size: args.batch_size as usize,
        writers,
    };
    let imported = match command {
        ImportCommand::Customers(_) => {
            let service = CustomerService::new(store, clock);
            import::import_customers(service, &options, &mut rejects).await
        }
        ImportCommand::Invoices(_) => {
            let service = InvoiceService::new(store.clone(), store, clock)
                .with_limits(wiring::amount_limits(&settings.provider));
            import::import_invoices(service, &options, &mut rejects).await
        }
    };
    // The rejects found before an import stopped are reported all the same.
    let report_file = rejects.path().map(Path::to_owned);
    let finished = rejects.finish();
    if let Ok(lines) = &finished {
        for line in lines {
            eprintln!("{line}");
        }
    }
    let report = imported?;
    finished?;
    let summary = summary(kind, &options.source, &report);
    if args.dry_run {
        println!("dry run, nothing written: {summary}");
    } else {
        println!("{summary}");
    }
    if report.rejected > 0 {
        return Err(RowsRejected {
            rejected: report.rejected,
            read: report.read,
            report: report_file,
        }
        .into());
    }
    Ok(())
}

/// Where refused rows go: `--rejects FILE` (in its extension's format, else the input's), or
/// a summary on stderr.
fn rejects_report(source: &Source, format: Format, args: &ImportArgs) -> anyhow::Result<Rejects> {
    let Some(path) = &args.rejects else {
        return Ok(Rejects::summary());
    };
    if let Source::File(input) = source {
        let same = match (input.canonicalize(), path.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            return Err(ImportError::RejectsOverInput(path.clone()).into());
        }
    }
    Ok(Rejects::to_file(
        path,
        Format::from_path(path).unwrap_or(format),
    )?)
}

/// `imported customers from FILE: 10 rows read, 6 created, 1 updated, 1 existing, 2 rejected
/// in 0.1s (…)`.
fn summary(kind: &str, source: &Source, report: &ImportReport) -> String {
    format!(
        "imported {kind} from {}: {} rows read, {} created, {} updated, {} existing, {} rejected in {:.1}s ({:.0} rows/s)",
        source.name(),
        report.read,
        report.created,
        report.updated,
        report.existing,
        report.rejected,
        report.elapsed.as_secs_f64(),
        per_second(report.read, report.elapsed)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rejected_outcome_names_the_report() {
        let with_file = RowsRejected {
            rejected: 2,
            read: 10,
            report: Some("bad.csv".into()),
        };
        assert_eq!(with_file.to_string(), "2 of 10 rows rejected: see bad.csv");
        let without = RowsRejected {
            rejected: 1,
            read: 1,
            report: None,
        };
        assert_eq!(without.to_string(), "1 of 1 rows rejected (listed above)");
    }
}
