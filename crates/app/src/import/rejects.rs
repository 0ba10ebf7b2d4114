//! The rejects report: every refused row's line, field and reason, written as it goes to a
//! CSV (`line,field,reason`) or NDJSON file, or, without a file, the first few kept for a
//! summary on stderr and the rest counted.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ImportError;
use super::format::Format;

/// How many problems the stderr summary shows; the rest are counted.
pub const SHOWN_ON_STDERR: usize = 20;

/// What is wrong with a row: one field (or the row as a whole), and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The column, or `None` when the row as a whole is wrong (not JSON, too many fields).
    pub field: Option<String>,
    /// Why, in words.
    pub reason: String,
}

impl Problem {
    /// A problem with column `name`.
    pub fn field(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: Some(name.into()),
            reason: reason.into(),
        }
    }

    /// A problem with the row as a whole.
    pub fn row(reason: impl Into<String>) -> Self {
        Self {
            field: None,
            reason: reason.into(),
        }
    }
}

/// A refused row: its line in the input and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// The line (1-based; a CSV header is line 1).
    pub line: u64,
    /// Its problems, one per field at fault.
    pub problems: Vec<Problem>,
}

/// One line of a rejects file.
#[derive(Serialize)]
struct Entry<'a> {
    line: u64,
    field: Option<&'a str>,
    reason: &'a str,
}

/// Where rejects go.
pub struct Rejects {
    sink: Sink,
    rows: u64,
}

enum Sink {
    Csv {
        path: PathBuf,
        writer: Box<csv::Writer<BufWriter<File>>>,
    },
    Ndjson {
        path: PathBuf,
        writer: BufWriter<File>,
    },
    Summary {
        shown: Vec<String>,
        more: u64,
    },
}

impl Rejects {
    /// A report written to `path` (created or truncated) in `format`.
    pub fn to_file(path: &Path, format: Format) -> Result<Self, ImportError> {
        let error = |cause| ImportError::Rejects {
            path: path.to_owned(),
            cause,
        };
        let file = BufWriter::new(File::create(path).map_err(error)?);
        let sink = match format {
            Format::Csv => {
                let mut writer = Box::new(csv::Writer::from_writer(file));
                writer
                    .write_record(["line", "field", "reason"])
                    .map_err(|e| error(e.into()))?;
                Sink::Csv {
                    path: path.to_owned(),
                    writer,
                }
            }
            Format::Ndjson => Sink::Ndjson {
                path: path.to_owned(),
                writer: file,
            },
        };
        Ok(Self { sink, rows: 0 })
    }

    /// A summary for stderr: the first [`SHOWN_ON_STDERR`] problems, and a count of the rest.
    pub fn summary() -> Self {
        Self {
            sink: Sink::Summary {
                shown: Vec::new(),
                more: 0,
            },
            rows: 0,
        }
    }

    /// The report's file, if it has one.
    pub fn path(&self) -> Option<&Path> {
        match &self.sink {
            Sink::Csv { path, .. } | Sink::Ndjson { path, .. } => Some(path),
            Sink::Summary { .. } => None,
        }
    }

    /// Rows rejected so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Records a refused row.
    pub fn add(&mut self, reject: &Reject) -> Result<(), ImportError> {
        self.rows += 1;
        for problem in &reject.problems {
            let entry = Entry {
                line: reject.line,
                field: problem.field.as_deref(),
                reason: &problem.reason,
            };
            match &mut self.sink {
                Sink::Csv { path, writer } => {
                    let line = entry.line.to_string();
                    writer
                        .write_record([&line, entry.field.unwrap_or(""), entry.reason])
                        .map_err(|e| write_error(path, e.into()))?;
                }
                Sink::Ndjson { path, writer } => {
                    serde_json::to_writer(&mut *writer, &entry)
                        .map_err(|e| write_error(path, e.into()))?;
                    writer.write_all(b"\n").map_err(|e| write_error(path, e))?;
                }
                Sink::Summary { shown, more } => {
                    if shown.len() < SHOWN_ON_STDERR {
                        shown.push(match entry.field {
                            Some(field) => {
                                format!("line {}, {field}: {}", entry.line, entry.reason)
                            }
                            None => format!("line {}: {}", entry.line, entry.reason),
                        });
                    } else {
                        *more += 1;
                    }
                }
            }
        }
        Ok(())
    }

    /// Flushes a report file; answers the lines for stderr (a summary's problems and a count
    /// of those not shown; nothing for a file).
    pub fn finish(self) -> Result<Vec<String>, ImportError> {
        match self.sink {
            Sink::Csv { path, mut writer } => {
                writer.flush().map_err(|e| write_error(&path, e))?;
                Ok(Vec::new())
            }
            Sink::Ndjson { path, mut writer } => {
                writer.flush().map_err(|e| write_error(&path, e))?;
                Ok(Vec::new())
            }
            Sink::Summary { mut shown, more } => {
                if more > 0 {
                    shown.push(format!(
                        "… and {more} more (--rejects FILE writes every one)"
                    ));
                }
                Ok(shown)
            }
        }
    }
}

fn write_error(path: &Path, cause: std::io::Error) -> ImportError {
    ImportError::Rejects {
        path: path.to_owned(),
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejects() -> Vec<Reject> {
        vec![
            Reject {
                line: 3,
                problems: vec![
                    Problem::field("amount", "must be greater than zero"),
                    Problem::field("currency", "unknown currency \"eur\", with a \"quote\""),
                ],
            },
            Reject {
                line: 9,
                problems: vec![Problem::row("is not a JSON object")],
            },
        ]
    }

    #[test]
    fn a_csv_report_has_a_line_per_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rejects.csv");
        let mut report = Rejects::to_file(&path, Format::Csv).unwrap();
        for r in rejects() {
            report.add(&r).unwrap();
        }
        assert_eq!(report.rows(), 2);
        assert!(report.finish().unwrap().is_empty());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "line,field,reason\n3,amount,must be greater than zero\n\
             3,currency,\"unknown currency \"\"eur\"\", with a \"\"quote\"\"\"\n\
             9,,is not a JSON object\n"
        );
    }

    #[test]
    fn an_ndjson_report_has_an_object_per_problem() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rejects.ndjson");
        let mut report = Rejects::to_file(&path, Format::Ndjson).unwrap();
        for r in rejects() {
            report.add(&r).unwrap();
        }
        report.finish().unwrap();
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(
            lines[0],
            serde_json::json!({"line": 3, "field": "amount", "reason": "must be greater than zero"})
        );
        assert_eq!(lines[2]["field"], serde_json::Value::Null);
    }

    #[test]
    fn the_stderr_summary_shows_the_first_few_and_counts_the_rest() {
        let mut report = Rejects::summary();
        for line in 0..(SHOWN_ON_STDERR as u64 + 5) {
            report
                .add(&Reject {
                    line,
                    problems: vec![Problem::field("amount", "bad")],
                })
                .unwrap();
        }
        let shown = report.finish().unwrap();
        assert_eq!(shown.len(), SHOWN_ON_STDERR + 1);
        assert_eq!(shown[0], "line 0, amount: bad");
        assert!(shown[SHOWN_ON_STDERR].contains("5 more"), "{shown:?}");
    }
}
