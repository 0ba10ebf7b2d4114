//! Configuration: one typed struct, loaded once from the environment, validated at start-up.

use std::fmt;
use std::net::SocketAddr;

use antaeus_data::DatabaseUrl;
use thiserror::Error;

use crate::provider::SimulationProfile;

/// The default database: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://antaeus.db";
/// The default listen address, as the original Antaeus.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:7000";

/// Everything the service reads from its environment.
#[derive(Clone)]
pub struct Settings {
    /// `ANTAEUS_DATABASE_URL`: `sqlite://<path>` or `postgres://…`.
    pub database_url: DatabaseUrl,
    /// `ANTAEUS_HTTP_ADDR`: where the REST API listens.
    pub http_addr: SocketAddr,
    /// `ANTAEUS_DB_POOL_SIZE`: most database connections per process.
    pub db_pool_size: u32,
    /// `ANTAEUS_SIMULATED_*`: behaviour of the simulated payment provider.
    pub simulation: SimulationProfile,
}

/// A setting that is present but invalid; the message names the variable.
#[derive(Debug, Error)]
#[error("{var}: {reason}")]
pub struct SettingsError {
    /// The environment variable.
    pub var: &'static str,
    /// Why its value is refused.
    pub reason: String,
}

impl Settings {
    /// Loads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Loads the settings from `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get =
            |var: &'static str, default: &str| lookup(var).unwrap_or_else(|| default.to_owned());
        let invalid = |var: &'static str, reason: String| SettingsError { var, reason };

        let database_url = get("ANTAEUS_DATABASE_URL", DEFAULT_DATABASE_URL)
            .parse()
            .map_err(|e: antaeus_data::DataError| invalid("ANTAEUS_DATABASE_URL", e.to_string()))?;
        let http_addr = get("ANTAEUS_HTTP_ADDR", DEFAULT_HTTP_ADDR)
            .parse()
            .map_err(|e| {
                invalid(
                    "ANTAEUS_HTTP_ADDR",
                    format!("{e} (expected host:port, e.g. {DEFAULT_HTTP_ADDR})"),
                )
            })?;
        let db_pool_size = parse_in_range(&get, "ANTAEUS_DB_POOL_SIZE", "10", 1, 1000)?;
        let simulation = SimulationProfile::from_lookup(&lookup)?;
        Ok(Self {
            database_url,
            http_addr,
            db_pool_size: u32::try_from(db_pool_size).unwrap_or(10),
            simulation,
        })
    }
}

/// Parses an integer setting within `min..=max`.
pub(crate) fn parse_in_range(
    get: &impl Fn(&'static str, &str) -> String,
    var: &'static str,
    default: &str,
    min: u64,
    max: u64,
) -> Result<u64, SettingsError> {
    let raw = get(var, default);
    raw.trim()
        .parse::<u64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| SettingsError {
            var,
            reason: format!("{raw:?} is not an integer from {min} to {max}"),
        })
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The database URL prints redacted; no other setting is secret yet.
        f.debug_struct("Settings")
            .field("database_url", &self.database_url.redacted())
            .field("http_addr", &self.http_addr)
            .field("db_pool_size", &self.db_pool_size)
            .field("simulation", &self.simulation)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use antaeus_data::Backend;

    use super::*;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn defaults_are_the_original_antaeus() {
        let s = load(&[]).unwrap();
        assert_eq!(s.database_url.backend(), Backend::Sqlite);
        assert_eq!(s.database_url.redacted(), "sqlite://antaeus.db");
        assert_eq!(s.http_addr.to_string(), "127.0.0.1:7000");
    }

    #[test]
    fn a_postgres_url_selects_postgres_and_prints_redacted() {
        let s = load(&[("ANTAEUS_DATABASE_URL", "postgres://u:hunter2@db/antaeus")]).unwrap();
        assert_eq!(s.database_url.backend(), Backend::Postgres);
        assert!(!format!("{s:?}").contains("hunter2"));
    }

    #[test]
    fn invalid_values_name_their_variable() {
        for (var, value) in [
            ("ANTAEUS_DATABASE_URL", "mysql://x"),
            ("ANTAEUS_HTTP_ADDR", "localhost"),
            ("ANTAEUS_DB_POOL_SIZE", "0"),
            ("ANTAEUS_SIMULATED_LATENCY_MS", "fast"),
        ] {
            let err = load(&[(var, value)]).unwrap_err();
            assert_eq!(err.var, var);
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }
}
