//! Free space on the disk holding a SQLite database, to explain a failed open: SQLite reports
//! a full disk there as a bare "disk I/O error" (it cannot allocate the `-shm` WAL index).

use std::path::Path;

use crate::error::SQLITE_FULL;

/// Below this much free space a failed open is put down to a full disk. SQLite needs 32 KiB
/// for the WAL index and a few pages for the WAL; with more room than this it opens, and a
/// later write fails with SQLite's own "database or disk is full".
const NEARLY_FULL: u64 = 1 << 20;

/// SQLite's messages for a failure that a full disk causes.
const SPACE_ERRORS: [&str; 3] = [
    "disk I/O error",
    SQLITE_FULL,
    "unable to open database file",
];

/// `reason` (why SQLite could not open or set up the database file at `path`), prefixed with
/// the free space when the disk holding it is nearly full.
pub(crate) fn explain_open_failure(reason: String, path: &Path) -> String {
    if SPACE_ERRORS.iter().any(|e| reason.contains(e)) {
        explain(reason, available_bytes(path))
    } else {
        reason
    }
}

fn explain(reason: String, available: Option<u64>) -> String {
    match available {
        Some(free) if free < NEARLY_FULL => format!(
            "no space left on the disk holding the database ({} KiB free): {reason}",
            free / 1024
        ),
        _ => reason,
    }
}

/// Bytes the file system holding the file `path` still offers to unprivileged writers.
#[cfg(unix)]
fn available_bytes(path: &Path) -> Option<u64> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let stats = rustix::fs::statvfs(dir).ok()?;
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(not(unix))]
fn available_bytes(_path: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nearly_full_disk_is_named_with_its_free_space() {
        assert_eq!(
            explain("disk I/O error".into(), Some(8 * 1024)),
            "no space left on the disk holding the database (8 KiB free): disk I/O error"
        );
    }

    #[test]
    fn with_room_or_unknown_space_the_reason_stands() {
        assert_eq!(
            explain("disk I/O error".into(), Some(1 << 30)),
            "disk I/O error"
        );
        assert_eq!(explain("disk I/O error".into(), None), "disk I/O error");
    }

    #[test]
    fn other_failures_are_not_put_down_to_space() {
        let path = std::env::temp_dir().join("antaeus.db");
        assert_eq!(
            explain_open_failure("file is not a database".into(), &path),
            "file is not a database"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_free_space_of_a_relative_path_is_that_of_the_working_directory() {
        assert!(available_bytes(Path::new("antaeus.db")).is_some());
    }
}
