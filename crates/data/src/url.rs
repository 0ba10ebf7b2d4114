use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::DataError;

/// Which database engine a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// A parsed `ANTAEUS_DATABASE_URL`: `sqlite://<path>` or `postgres://…` / `postgresql://…`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file, created if missing (its directory must exist).
    Sqlite(PathBuf),
    /// A libpq connection URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// The engine this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    /// The URL with any password replaced by `***`, safe for logs and error messages.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => redact_password(url),
        }
    }
}

impl FromStr for DatabaseUrl {
    type Err = DataError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let raw = raw.trim();
        if let Some(rest) = raw.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(DataError::InvalidUrl(
                    "sqlite URL has no file path (expected sqlite://<path>)".into(),
                ));
            }
            if path.contains(":memory:") || path.starts_with("file:") {
                return Err(DataError::InvalidUrl(
                    "in-memory SQLite databases are not supported: give a file path".into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        let scheme = raw.split_once(':').map_or(raw, |(s, _)| s);
        Err(DataError::InvalidUrl(format!(
            "unsupported database URL scheme {scheme:?}: use sqlite://<path> or postgres://<user>@<host>/<database>"
        )))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`; also `password=` parameters.
fn redact_password(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let authority_start = scheme_end + 3;
        let authority_end = out[authority_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| authority_start + i);
        if let Some(at) = out[authority_start..authority_end].rfind('@') {
            let userinfo = &out[authority_start..authority_start + at];
            if let Some(colon) = userinfo.find(':') {
                let start = authority_start + colon + 1;
                out.replace_range(start..authority_start + at, "***");
            }
        }
    }
    if let Some(query_start) = out.find('?') {
        let (head, query) = out.split_at(query_start + 1);
        let query = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&");
        out = format!("{head}{query}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_give_a_path() {
        let cases = [
            ("sqlite://antaeus.db", "antaeus.db"),
            ("sqlite:///var/lib/antaeus.db", "/var/lib/antaeus.db"),
            ("sqlite:data/antaeus.db", "data/antaeus.db"),
        ];
        for (url, path) in cases {
            assert_eq!(
                url.parse::<DatabaseUrl>().unwrap(),
                DatabaseUrl::Sqlite(path.into())
            );
        }
    }

    #[test]
    fn postgres_urls_select_postgres() {
        for url in [
            "postgres://u@h/db",
            "postgresql://u:p@h:5432/db?sslmode=disable",
        ] {
            assert_eq!(
                url.parse::<DatabaseUrl>().unwrap().backend(),
                Backend::Postgres
            );
        }
    }

    #[test]
    fn unknown_schemes_empty_paths_and_memory_are_rejected() {
        for url in [
            "mysql://x",
            "antaeus.db",
            "",
            "sqlite://",
            "sqlite::memory:",
            "http://x",
        ] {
            let err = url.parse::<DatabaseUrl>().unwrap_err();
            assert!(matches!(err, DataError::InvalidUrl(_)), "{url:?}: {err}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        let url: DatabaseUrl =
            "postgres://bob:s3cret@db.example:5432/antaeus?password=x2&sslmode=require"
                .parse()
                .unwrap();
        let shown = url.to_string();
        assert!(
            !shown.contains("s3cret") && !shown.contains("x2"),
            "{shown}"
        );
        assert_eq!(
            shown,
            "postgres://bob:***@db.example:5432/antaeus?password=***&sslmode=require"
        );
        assert_eq!(format!("{url:?}"), shown);
    }
}
