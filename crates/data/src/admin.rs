//! Creating and dropping whole PostgreSQL databases, for tests and benchmarks that each need a
//! database of their own.

use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::DataError;
use crate::error::one_line;

/// `postgres://u@h:5432/test?x=y` with the database replaced by `name`.
pub fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Creates database `name` on the server at `server_url`, dropping any database of that name
/// first. Names are lowercase letters, digits and underscores.
pub async fn recreate_database(server_url: &str, name: &str) -> Result<(), DataError> {
    check_name(name)?;
    let (server_url, name) = (server_url.to_owned(), name.to_owned());
    crate::openssl_init::init();
    tokio::task::spawn_blocking(move || {
        let fail = |e: &dyn std::error::Error| DataError::Open {
            url: crate::DatabaseUrl::Postgres(server_url.clone()).redacted(),
            reason: one_line(e),
        };
        let mut admin = PgConnection::establish(&server_url).map_err(|e| fail(&e))?;
        diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin)
            .map_err(|e| fail(&e))?;
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .map_err(|e| fail(&e))?;
        Ok(())
    })
    .await
    .map_err(|e| DataError::InvalidUrl(format!("database creation task failed: {e}")))?
}

/// Drops database `name` (ending its sessions), best effort: a leftover database is harmless.
pub fn drop_database(server_url: &str, name: &str) {
    if check_name(name).is_err() {
        return;
    }
    crate::openssl_init::init();
    if let Ok(mut admin) = PgConnection::establish(server_url) {
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .execute(&mut admin);
    }
}

fn check_name(name: &str) -> Result<(), DataError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(DataError::InvalidUrl(format!(
            "invalid database name {name:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_in_a_server_url() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgresql://u:p@h/test?sslmode=disable", "x"),
            "postgresql://u:p@h/x?sslmode=disable"
        );
    }

    #[test]
    fn only_plain_names_are_accepted() {
        assert!(check_name("antaeus_bench_42").is_ok());
        for bad in ["", "A", "x\"; DROP", "a-b", &"x".repeat(64)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
