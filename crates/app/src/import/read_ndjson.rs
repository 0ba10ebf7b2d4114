//! NDJSON input: one JSON object per line, keyed by column name; blank lines are skipped. The
//! first object's keys are checked as a CSV header is (before anything is written); a later
//! object with an unknown key is a rejected row. Amounts and ids may be JSON numbers: their
//! literal text is kept, never read through a float.

use std::collections::BTreeMap;
use std::io::{self, BufRead};

use serde_json::value::RawValue;

use super::ImportError;
use super::format::{Record, RecordReader};
use super::rejects::Problem;
use super::schema::{Raw, Schema, Values};

/// The longest line read; a longer one is rejected without being held in memory.
pub const MAX_LINE: usize = 1 << 20;

/// The records of an NDJSON input.
pub struct NdjsonRecords {
    input: Box<dyn BufRead + Send>,
    name: String,
    schema: &'static Schema,
    line: u64,
    bytes: u64,
    buf: Vec<u8>,
    columns_checked: bool,
}

impl NdjsonRecords {
    /// A reader of `input` (named `name` in messages).
    pub fn new(input: Box<dyn BufRead + Send>, name: String, schema: &'static Schema) -> Self {
        Self {
            input,
            name,
            schema,
            line: 0,
            bytes: 0,
            buf: Vec::new(),
            columns_checked: false,
        }
    }

    /// The values of the object on the line in `buf`; `Err` only when the first object's keys
    /// are wrong (the import stops).
    fn values(&mut self, text: &[u8]) -> Result<Result<Values, Vec<Problem>>, ImportError> {
        let object: BTreeMap<String, &RawValue> = match serde_json::from_slice(text) {
            Ok(object) => object,
            Err(e) => {
                return Ok(Err(vec![Problem::row(format!(
                    "is not a JSON object: {e}"
                ))]));
            }
        };
        if !self.columns_checked {
            self.schema
                .check_columns(&self.name, object.keys().map(String::as_str))?;
            self.columns_checked = true;
        }
        let mut values = Values::new(self.schema);
        let mut problems = Vec::new();
        for (key, raw) in &object {
            let Some(position) = self.schema.index(key) else {
                problems.push(Problem::field(
                    key,
                    format!(
                        "is not a column (the columns are {})",
                        self.schema.expected()
                    ),
                ));
                continue;
            };
            match value(raw.get(), self.schema.columns[position].numbers) {
                Ok(value) => values.set(position, value),
                Err(reason) => problems.push(Problem::field(key, reason)),
            }
        }
        Ok(if problems.is_empty() {
            Ok(values)
        } else {
            Err(problems)
        })
    }
}

impl RecordReader for NdjsonRecords {
    fn next_record(&mut self) -> Result<Option<Record>, ImportError> {
        loop {
            self.buf.clear();
            let (read, whole) =
                read_line(&mut self.input, &mut self.buf, MAX_LINE).map_err(|e| {
                    ImportError::Read {
                        input: self.name.clone(),
                        reason: e.to_string(),
                    }
                })?;
            if read == 0 {
                return Ok(None);
            }
            self.line += 1;
            self.bytes += read as u64;
            let values = if !whole {
                Err(vec![Problem::row(format!(
                    "is longer than {} MiB",
                    MAX_LINE >> 20
                ))])
            } else {
                let text = std::mem::take(&mut self.buf);
                // A byte order mark some editors write first is not part of the object.
                let trimmed = text
                    .strip_prefix(b"\xEF\xBB\xBF")
                    .unwrap_or(&text)
                    .trim_ascii();
                if trimmed.is_empty() {
                    self.buf = text;
                    continue;
                }
                let values = self.values(trimmed);
                self.buf = text;
                values?
            };
            return Ok(Some(Record {
                line: self.line,
                bytes: self.bytes,
                values,
            }));
        }
    }
}

/// A JSON value as a column's raw value: a string (trimmed; empty is none), `null` (none), or,
/// where the column takes them, a number's literal.
fn value(json: &str, numbers: bool) -> Result<Option<Raw>, String> {
    match json.as_bytes().first() {
        Some(b'"') => {
            let text: String = serde_json::from_str(json).map_err(|e| e.to_string())?;
            let text = text.trim();
            Ok((!text.is_empty()).then(|| Raw::Text(text.to_owned())))
        }
        Some(b'n') => Ok(None),
        Some(b'-' | b'0'..=b'9') if numbers => Ok(Some(Raw::Number(json.to_owned()))),
        Some(b'-' | b'0'..=b'9') => Err("must be a string, not a number".into()),
        _ if numbers => Err(format!("must be a number or a string, not {json}")),
        _ => Err(format!("must be a string, not {json}")),
    }
}

/// Reads one line into `buf` (at most `max` bytes besides its newline); answers the bytes
/// consumed (0 at the end) and whether the line fitted (a longer one is consumed and dropped).
fn read_line(input: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<(usize, bool)> {
    let mut consumed = 0;
    let mut fits = true;
    loop {
        let available = match input.fill_buf() {
            Ok(available) => available,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed, fits));
        }
        let (chunk, ends) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        if fits && buf.len() + chunk.len() > max + 1 {
            fits = false;
            buf.clear();
        }
        if fits {
            buf.extend_from_slice(chunk);
        }
        let n = chunk.len();
        input.consume(n);
        consumed += n;
        if ends {
            return Ok((consumed, fits));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::invoices::SCHEMA;
    use super::*;

    fn reader(text: impl Into<String>) -> NdjsonRecords {
        let input = io::Cursor::new(text.into().into_bytes());
        NdjsonRecords::new(Box::new(input), "i.ndjson".into(), &SCHEMA)
    }

    fn all(text: impl Into<String>) -> Vec<Record> {
        let mut r = reader(text);
        std::iter::from_fn(|| r.next_record().unwrap()).collect()
    }

    const FIRST: &str =
        r#"{"externalId":"i-1","customerId":7,"amount":12.50,"currency":"EUR","dueAt":null}"#;

    #[test]
    fn numbers_keep_their_literal_text_and_blank_lines_are_skipped() {
        let text = format!(
            "\u{feff}{FIRST}\n\n{}\r\n",
            r#"{"externalId":" i-2 ","customerExternalId":"acme","amount":"0.10000000000000000001","currency":"EUR"}"#
        );
        let records = all(text);
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].line, 1);
        let first = records[0].values.as_ref().unwrap();
        assert_eq!(first.get("amount"), Some(&Raw::Number("12.50".into())));
        assert_eq!(first.get("customerId"), Some(&Raw::Number("7".into())));
        assert_eq!(first.get("dueAt"), None);
        assert!(first.has_column("dueAt"), "null: there, empty");
        assert!(!first.has_column("description"), "not a key");
        assert_eq!(records[1].line, 3);
        let second = records[1].values.as_ref().unwrap();
        assert_eq!(second.get("externalId").unwrap().as_str(), "i-2");
        assert_eq!(
            second.get("amount"),
            Some(&Raw::Text("0.10000000000000000001".into()))
        );
    }

    #[test]
    fn bad_lines_and_bad_values_are_problems_of_their_row() {
        let text = format!(
            "{FIRST}\nnot json\n{}\n{}\n",
            r#"{"externalId":"i-3","customerId":7,"amount":1,"currency":1,"colour":"red"}"#,
            r#"[1,2]"#
        );
        let records = all(text);
        assert_eq!(records.len(), 4);
        let problems = records[1].values.as_ref().unwrap_err();
        assert!(problems[0].reason.starts_with("is not a JSON object"));
        let problems = records[2].values.as_ref().unwrap_err();
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_deref()).collect();
        assert_eq!(fields, [Some("colour"), Some("currency")]);
        assert!(records[3].values.is_err());
    }

    #[test]
    fn the_first_objects_keys_are_checked_like_a_header() {
        let mut r = reader("{\"externalId\":\"i-1\",\"amount\":\"1\",\"currency\":\"EUR\"}\n");
        let err = r.next_record().unwrap_err();
        assert!(
            err.to_string()
                .contains("no customerExternalId or customerId column"),
            "{err}"
        );
        let mut r = reader("{\"external_id\":\"i-1\"}\n");
        let err = r.next_record().unwrap_err();
        assert!(matches!(err, ImportError::UnknownColumn { .. }), "{err}");
    }

    #[test]
    fn an_overlong_line_is_rejected_without_being_kept() {
        let long = format!("{FIRST}\n\"{}\"\n{FIRST}\n", "x".repeat(MAX_LINE + 10));
        let mut r = reader(long);
        assert!(r.next_record().unwrap().unwrap().values.is_ok());
        let record = r.next_record().unwrap().unwrap();
        assert_eq!(record.line, 2);
        assert!(
            record.values.unwrap_err()[0]
                .reason
                .contains("longer than 1 MiB")
        );
        assert!(
            r.buf.capacity() <= 2 * (MAX_LINE + 1),
            "the line was not kept"
        );
        let last = r.next_record().unwrap().unwrap();
        assert_eq!(last.line, 3);
        assert!(last.values.is_ok());
    }
}
