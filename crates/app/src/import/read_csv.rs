//! CSV input: a header row naming the columns, then one row per record. Lines are counted as
//! the file has them (the header is line 1; quoted fields may span lines; blank lines and rows
//! of empty fields are skipped); LF and CRLF line ends both work, and a UTF-8 byte order mark
//! is ignored.

use std::io::{self, BufRead, Read};

use super::ImportError;
use super::format::{Record, RecordReader};
use super::rejects::Problem;
use super::schema::{Raw, Schema, Values};

/// The UTF-8 byte order mark some spreadsheets write first.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The records of a CSV input.
pub struct CsvRecords {
    reader: csv::Reader<EndsWithNewline>,
    name: String,
    schema: &'static Schema,
    /// The column position of each header field.
    positions: Vec<usize>,
    record: csv::ByteRecord,
}

impl CsvRecords {
    /// Reads and checks the header of `input` (named `name` in messages).
    pub fn new(
        input: Box<dyn BufRead + Send>,
        name: String,
        schema: &'static Schema,
    ) -> Result<Self, ImportError> {
        // Only a newline ends a record, so that every record's newline is counted (a CR
        // before it is trimmed with the last field).
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(EndsWithNewline::new(input));
        let headers = reader.byte_headers().map_err(|e| read_error(&name, e))?;
        let names: Vec<String> = headers
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = if i == 0 {
                    h.strip_prefix(BOM).unwrap_or(h)
                } else {
                    h
                };
                String::from_utf8_lossy(h.trim_ascii()).into_owned()
            })
            .collect();
        if names.iter().all(String::is_empty) {
            return Err(ImportError::Empty(name));
        }
        let positions = schema.check_columns(&name, names.iter().map(String::as_str))?;
        Ok(Self {
            reader,
            name,
            schema,
            positions,
            record: csv::ByteRecord::new(),
        })
    }

    fn values(&self) -> Result<Values, Vec<Problem>> {
        if self.record.len() != self.positions.len() {
            return Err(vec![Problem::row(format!(
                "has {} fields where the header has {}",
                self.record.len(),
                self.positions.len()
            ))]);
        }
        let mut values = Values::new(self.schema);
        let mut problems = Vec::new();
        for (field, &position) in self.record.iter().zip(&self.positions) {
            match std::str::from_utf8(field.trim_ascii()) {
                Ok("") => values.set(position, None),
                Ok(text) => values.set(position, Some(Raw::Text(text.to_owned()))),
                Err(_) => problems.push(Problem::field(
                    self.schema.columns[position].name,
                    "is not UTF-8 text",
                )),
            }
        }
        if problems.is_empty() {
            Ok(values)
        } else {
            Err(problems)
        }
    }
}

impl RecordReader for CsvRecords {
    fn next_record(&mut self) -> Result<Option<Record>, ImportError> {
        loop {
            let more = self
                .reader
                .read_byte_record(&mut self.record)
                .map_err(|e| read_error(&self.name, e))?;
            if !more {
                return Ok(None);
            }
            if self.record.iter().all(|f| f.trim_ascii().is_empty()) {
                continue;
            }
            // The reader has counted the lines up to the record's newline: the record starts
            // as many lines earlier as its fields hold newlines.
            let position = self.reader.position();
            let embedded: usize = self
                .record
                .iter()
                .map(|f| f.iter().filter(|&&b| b == b'\n').count())
                .sum();
            return Ok(Some(Record {
                line: position.line().saturating_sub(1 + embedded as u64),
                bytes: position.byte(),
                values: self.values(),
            }));
        }
    }
}

/// The input, with a newline added at the end when its last line has none (so that the last
/// record's line is counted as the others are).
struct EndsWithNewline {
    input: Box<dyn BufRead + Send>,
    last: Option<u8>,
    ended: bool,
}

impl EndsWithNewline {
    fn new(input: Box<dyn BufRead + Send>) -> Self {
        Self {
            input,
            last: None,
            ended: false,
        }
    }
}

impl Read for EndsWithNewline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ended || buf.is_empty() {
            return Ok(0);
        }
        let n = self.input.read(buf)?;
        if n > 0 {
            self.last = Some(buf[n - 1]);
            return Ok(n);
        }
        self.ended = true;
        if self.last.is_some_and(|b| b != b'\n') {
            buf[0] = b'\n';
            return Ok(1);
        }
        Ok(0)
    }
}

fn read_error(name: &str, error: csv::Error) -> ImportError {
    ImportError::Read {
        input: name.to_owned(),
        reason: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::customers::SCHEMA;
    use super::*;

    fn reader(text: &'static str) -> Result<CsvRecords, ImportError> {
        CsvRecords::new(Box::new(text.as_bytes()), "c.csv".into(), &SCHEMA)
    }

    fn all(text: &'static str) -> Vec<Record> {
        let mut r = reader(text).unwrap();
        std::iter::from_fn(|| r.next_record().unwrap()).collect()
    }

    fn lines(text: &'static str) -> Vec<u64> {
        all(text).iter().map(|r| r.line).collect()
    }

    #[test]
    fn lines_are_the_files_whatever_the_line_ends_and_blank_lines() {
        assert_eq!(lines("externalId,currency\na,EUR\n\nb,EUR\n"), [2, 4]);
        assert_eq!(
            lines("externalId,currency\na,EUR\nb,EUR\n\n\nc,EUR"),
            [2, 3, 6]
        );
        assert_eq!(
            lines("externalId,currency\r\na,EUR\r\n\r\n\"b\r\n\",EUR\r\n,\r\nc,EUR\r\n"),
            [2, 4, 7]
        );
        let records = all("\u{feff}externalId,currency\r\na,\"EUR\"\r\n");
        let values = records[0].values.as_ref().unwrap();
        assert_eq!(values.get("currency").unwrap().as_str(), "EUR");
    }

    #[test]
    fn rows_carry_their_file_lines_and_trimmed_values() {
        let records = all("externalId,currency,name\n acme , EUR ,\"Acme,\nInc\"\n\nbeta,USD,\n");
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].line, 2);
        let values = records[0].values.as_ref().unwrap();
        assert_eq!(values.get("externalId").unwrap().as_str(), "acme");
        assert_eq!(values.get("name").unwrap().as_str(), "Acme,\nInc");
        // The quoted name spans lines 2-3, and line 4 is blank.
        assert_eq!(records[1].line, 5);
        let beta = records[1].values.as_ref().unwrap();
        assert_eq!(beta.get("name"), None);
        assert!(beta.has_column("name"), "a blank field is there, empty");
        assert!(!beta.has_column("email"), "not in the header");
    }

    #[test]
    fn a_row_of_the_wrong_width_or_not_utf8_is_a_problem_not_an_error() {
        let records = all("externalId,currency\na,EUR,extra\nb,SEK\n");
        let problems = records[0].values.as_ref().unwrap_err();
        assert_eq!(problems[0].field, None);
        assert!(problems[0].reason.contains("3 fields"), "{problems:?}");
        assert!(records[1].values.is_ok());

        let bytes: &'static [u8] = b"externalId,currency\nab\xff,EUR\n";
        let mut r = CsvRecords::new(Box::new(bytes), "c.csv".into(), &SCHEMA).unwrap();
        let record = r.next_record().unwrap().unwrap();
        let problems = record.values.unwrap_err();
        assert_eq!(problems[0].field.as_deref(), Some("externalId"));
    }

    #[test]
    fn the_header_is_checked_before_any_row() {
        let err = reader("externalId,name\na,b\n").err().unwrap();
        assert!(err.to_string().contains("no currency column"), "{err}");
        let err = reader("").err().unwrap();
        assert!(matches!(err, ImportError::Empty(_)), "{err}");
    }
}
