//! Many values bound to SQLite as one parameter: a JSON array that a statement reads back with
//! `json_each`, SQLite's counterpart of PostgreSQL's `unnest`. The statement's text stays short
//! and never changes with the number of values, so it is cheap to prepare (diesel prepares a
//! `sql_query` anew on every use), where a `VALUES` or `IN` list of a thousand values took
//! longer to prepare than to run.

use diesel::QueryResult;

/// `values` as one JSON array (each value as serde writes it: a row as an array of its
/// columns, a key as a number or a string).
pub(crate) fn json_array<T: serde::Serialize>(
    values: impl Iterator<Item = T>,
) -> QueryResult<String> {
    let values: Vec<T> = values.collect();
    serde_json::to_string(&values)
        .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
}
