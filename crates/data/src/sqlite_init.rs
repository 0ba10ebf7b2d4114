//! SQLite's process-wide settings, made before the first SQLite connection opens.
//!
//! The bundled SQLite is built serialized (`SQLITE_THREADSAFE=1`): every call on a connection
//! or a statement takes the connection's mutex, and every allocation takes the allocator's to
//! keep memory statistics. Antaeus never shares a connection between threads at once (diesel's
//! `SqliteConnection` is `Send` but not `Sync`, so a pool hands it to one thread at a time),
//! and reads no SQLite memory statistics, so both are pure cost: about 8% of an import's CPU
//! went to taking and releasing those mutexes.

use std::sync::OnceLock;

use diesel::{Connection, ConnectionResult, SqliteConnection};
use libsqlite3_sys as ffi;

/// What [`init`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Settings {
    /// Connections are opened in multi-thread mode, without memory statistics.
    Applied,
    /// SQLite was already initialized in this process (a connection opened before the first
    /// `Database::connect`), so it keeps its defaults; `code` is what `sqlite3_config` answered.
    TooLate { code: i32 },
}

/// Sets SQLite's multi-thread mode (no mutex per connection and statement; SQLite's own shared
/// caches keep theirs) and turns its memory statistics off, once per process, before SQLite
/// initializes. Later calls answer what the first found.
pub(crate) fn init() -> Settings {
    static SETTINGS: OnceLock<Settings> = OnceLock::new();
    *SETTINGS.get_or_init(|| {
        // SAFETY: `sqlite3_config` is safe to call with these options and their documented
        // arguments (none, and one `int`) before `sqlite3_initialize`; called after it, it
        // changes nothing and answers SQLITE_MISUSE. The `OnceLock` keeps two threads from
        // calling it at once, which SQLite does not allow.
        let code = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MULTITHREAD) };
        if code != ffi::SQLITE_OK {
            return Settings::TooLate { code };
        }
        // SAFETY: as above; this option takes one `int`, 0 for off.
        let code =
            unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as std::ffi::c_int) };
        if code != ffi::SQLITE_OK {
            return Settings::TooLate { code };
        }
        Settings::Applied
    })
}

/// Opens a SQLite connection to `path`, after [`init`]: every SQLite connection of this crate is
/// opened through here (or by a pool built after it), since a connection opened first would
/// leave SQLite at its defaults, and `sqlite3_config` must not run while another thread uses
/// SQLite.
pub(crate) fn open(path: &str) -> ConnectionResult<SqliteConnection> {
    init();
    SqliteConnection::establish(path)
}
