//! The formats an import reads, where it reads from, and what a reader hands on: one record
//! per data row, with its line number.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use super::ImportError;
use super::read_csv::CsvRecords;
use super::read_ndjson::NdjsonRecords;
use super::rejects::Problem;
use super::schema::{Schema, Values};

/// How the input is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header row naming the columns.
    Csv,
    /// One JSON object per line.
    Ndjson,
}

impl Format {
    /// The format a file's extension names: `.csv`, or `.ndjson` / `.jsonl`.
    pub fn from_path(path: &Path) -> Option<Self> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "csv" => Some(Format::Csv),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            _ => None,
        }
    }
}

/// Where the rows come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input (`-` on the command line).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Source {
    /// `-` is standard input, anything else a file.
    pub fn from_arg(arg: &Path) -> Self {
        if arg == Path::new("-") {
            Source::Stdin
        } else {
            Source::File(arg.to_owned())
        }
    }

    /// How messages name it.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "standard input".into(),
            Source::File(path) => path.display().to_string(),
        }
    }

    /// The format `--format` names, or else the one the file's extension names.
    pub fn format(&self, given: Option<Format>) -> Result<Format, ImportError> {
        given
            .or(match self {
                Source::Stdin => None,
                Source::File(path) => Format::from_path(path),
            })
            .ok_or_else(|| ImportError::UnknownFormat(self.name()))
    }

    /// Opens it; answers the reader and, for a file, its size in bytes.
    pub fn open(&self) -> Result<(Box<dyn Read + Send>, Option<u64>), ImportError> {
        match self {
            Source::Stdin => Ok((Box::new(std::io::stdin()), None)),
            Source::File(path) => {
                let open_error = |cause| ImportError::Open {
                    path: path.clone(),
                    cause,
                };
                let file = File::open(path).map_err(open_error)?;
                let metadata = file.metadata().map_err(open_error)?;
                if metadata.is_dir() {
                    return Err(open_error(std::io::Error::other("it is a directory")));
                }
                Ok((Box::new(file), Some(metadata.len())))
            }
        }
    }
}

/// One data row: where it is in the input, and its values or why they cannot be read.
#[derive(Debug)]
pub struct Record {
    /// Its line in the input (1-based; a CSV header is line 1).
    pub line: u64,
    /// Bytes of the input read up to the end of this row (for the progress bar).
    pub bytes: u64,
    /// Its values by column, or the problems that make it unreadable.
    pub values: Result<Values, Vec<Problem>>,
}

/// Reads an input record by record, holding at most one row in memory.
pub trait RecordReader: Send {
    /// The next data row, or `None` at the end; an error only when reading must stop.
    fn next_record(&mut self) -> Result<Option<Record>, ImportError>;
}

/// A reader of `input` in `format`; a CSV header is read and checked here, before anything
/// is written.
pub fn records(
    input: Box<dyn Read + Send>,
    name: String,
    format: Format,
    schema: &'static Schema,
) -> Result<Box<dyn RecordReader>, ImportError> {
    let buffered: Box<dyn BufRead + Send> = Box::new(BufReader::with_capacity(1 << 16, input));
    Ok(match format {
        Format::Csv => Box::new(CsvRecords::new(buffered, name, schema)?),
        Format::Ndjson => Box::new(NdjsonRecords::new(buffered, name, schema)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_comes_from_the_flag_or_else_the_extension() {
        let file = |p: &str| Source::File(PathBuf::from(p));
        assert_eq!(file("a/b.csv").format(None).unwrap(), Format::Csv);
        assert_eq!(file("b.CSV").format(None).unwrap(), Format::Csv);
        assert_eq!(file("b.ndjson").format(None).unwrap(), Format::Ndjson);
        assert_eq!(file("b.jsonl").format(None).unwrap(), Format::Ndjson);
        assert_eq!(
            file("b.csv").format(Some(Format::Ndjson)).unwrap(),
            Format::Ndjson
        );
        assert_eq!(
            Source::Stdin.format(Some(Format::Csv)).unwrap(),
            Format::Csv
        );
        for unknown in [file("b.json"), file("b"), Source::Stdin] {
            let err = unknown.format(None).unwrap_err();
            assert!(err.to_string().contains("--format csv"), "{err}");
        }
    }

    #[test]
    fn a_dash_is_standard_input() {
        assert_eq!(Source::from_arg(Path::new("-")), Source::Stdin);
        assert_eq!(
            Source::from_arg(Path::new("x.csv")),
            Source::File("x.csv".into())
        );
    }

    #[test]
    fn a_missing_file_or_a_directory_cannot_be_opened() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Source::File(dir.path().join("none.csv")).open().err();
        assert!(matches!(missing, Some(ImportError::Open { .. })));
        let directory = Source::File(dir.path().to_owned()).open().err().unwrap();
        let why = std::error::Error::source(&directory).map(ToString::to_string);
        assert_eq!(why.as_deref(), Some("it is a directory"), "{directory}");
    }
}
