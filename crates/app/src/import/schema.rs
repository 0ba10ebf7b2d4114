//! The columns of an import (CSV header names, NDJSON keys), the check of a file's columns
//! before anything is written, and one row's values by column.

use super::ImportError;

/// A column an import reads.
#[derive(Debug)]
pub struct Column {
    /// Its name, camelCase as in the API (`externalId`).
    pub name: &'static str,
    /// Whether NDJSON may give it as a number (ids and amounts) as well as a string.
    pub numbers: bool,
}

/// The columns of one kind of row.
#[derive(Debug)]
pub struct Schema {
    /// What the rows are: `customers` or `invoices`.
    pub kind: &'static str,
    /// Every column read, in the order the help text lists them.
    pub columns: &'static [Column],
    /// The columns a file must have: each entry is one column, or a choice (`customerExternalId`
    /// or `customerId`) of which one must be there.
    pub required: &'static [&'static [&'static str]],
}

impl Schema {
    /// The position of column `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    /// The column names, comma-separated, for error messages.
    pub fn expected(&self) -> String {
        let names: Vec<&str> = self.columns.iter().map(|c| c.name).collect();
        names.join(", ")
    }

    /// Checks the columns a file names (its CSV header, or the keys of its first NDJSON
    /// object): every one known, none twice, the required ones there. Answers each name's
    /// column position.
    pub fn check_columns<'a>(
        &self,
        input: &str,
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<usize>, ImportError> {
        let mut positions = Vec::new();
        for name in names {
            let position = self.index(name).ok_or_else(|| ImportError::UnknownColumn {
                input: input.to_owned(),
                column: name.to_owned(),
                expected: self.expected(),
            })?;
            if positions.contains(&position) {
                return Err(ImportError::DuplicateColumn {
                    input: input.to_owned(),
                    column: name.to_owned(),
                });
            }
            positions.push(position);
        }
        for choice in self.required {
            let present = choice
                .iter()
                .any(|name| self.index(name).is_some_and(|i| positions.contains(&i)));
            if !present {
                return Err(ImportError::MissingColumn {
                    input: input.to_owned(),
                    column: choice.join(" or "),
                    kind: self.kind,
                    expected: self.expected(),
                });
            }
        }
        Ok(positions)
    }
}

/// One value of a row, as the file wrote it (trimmed; never empty: an empty value is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Raw {
    /// Text: a CSV field or an NDJSON string.
    Text(String),
    /// An NDJSON number, as its literal text (never read through a float).
    Number(String),
}

impl Raw {
    /// The text as written (a number's literal).
    pub fn as_str(&self) -> &str {
        match self {
            Raw::Text(s) | Raw::Number(s) => s,
        }
    }
}

/// One row's values, by column.
#[derive(Debug)]
pub struct Values {
    schema: &'static Schema,
    /// By column position: `None` where the row does not have the column (it is not in the
    /// CSV header, or not a key of the NDJSON object), `Some(None)` where the row has it empty
    /// (a blank CSV field, an NDJSON `null` or `""`).
    raw: Vec<Option<Option<Raw>>>,
}

impl Values {
    /// A row with no values yet.
    pub fn new(schema: &'static Schema) -> Self {
        Self {
            schema,
            raw: vec![None; schema.columns.len()],
        }
    }

    /// Sets the value at column position `index` (`None`: the row has the column, empty).
    pub fn set(&mut self, index: usize, value: Option<Raw>) {
        self.raw[index] = Some(value);
    }

    /// The value of column `name`, if the row has one that is not empty.
    pub fn get(&self, name: &str) -> Option<&Raw> {
        self.column(name).and_then(Option::as_ref)
    }

    /// Whether the row has column `name`, empty or not.
    pub fn has_column(&self, name: &str) -> bool {
        self.column(name).is_some()
    }

    fn column(&self, name: &str) -> Option<&Option<Raw>> {
        self.schema
            .index(name)
            .and_then(|i| self.raw.get(i))
            .and_then(Option::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static FRUIT: Schema = Schema {
        kind: "fruit",
        columns: &[
            Column {
                name: "id",
                numbers: true,
            },
            Column {
                name: "name",
                numbers: false,
            },
            Column {
                name: "colour",
                numbers: false,
            },
        ],
        required: &[&["id"], &["name", "colour"]],
    };

    #[test]
    fn known_columns_map_to_their_positions_in_any_order() {
        let positions = FRUIT.check_columns("f.csv", ["colour", "id"]).unwrap();
        assert_eq!(positions, [2, 0]);
    }

    #[test]
    fn unknown_duplicate_and_missing_columns_are_refused_by_name() {
        let err = FRUIT
            .check_columns("f.csv", ["id", "name", "Colour"])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"f.csv has an unknown column "Colour" (the columns are id, name, colour)"#
        );
        let err = FRUIT.check_columns("f.csv", ["id", "id"]).unwrap_err();
        assert!(matches!(err, ImportError::DuplicateColumn { .. }), "{err}");
        let err = FRUIT.check_columns("f.csv", ["id"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.csv has no name or colour column (fruit need it; the columns are id, name, colour)"
        );
    }

    #[test]
    fn values_are_read_by_column_name() {
        let mut values = Values::new(&FRUIT);
        values.set(1, Some(Raw::Text("apple".into())));
        values.set(2, None);
        assert_eq!(values.get("name").map(Raw::as_str), Some("apple"));
        assert_eq!(values.get("colour"), None);
        assert_eq!(values.get("weight"), None);
        assert!(values.has_column("name") && values.has_column("colour"));
        assert!(!values.has_column("id"), "never set: not in the row");
    }
}
