//! The C libraries' heap. The binary allocates with jemalloc (see `main.rs`), but the C code it
//! links (SQLite, libpq and its OpenSSL) calls glibc's `malloc`, which gives each thread that
//! allocates an arena of its own, up to eight per core. The store's blocking threads each
//! filled one and kept what was freed in it resident: 3 to 5 MB of an engine run's peak on
//! SQLite (see the README's "Peak memory and the allocator").

use std::sync::atomic::{AtomicBool, Ordering};

/// The environment variable with which an operator chooses glibc's arena count instead.
const ARENA_MAX_VARIABLE: &str = "MALLOC_ARENA_MAX";

/// glibc's tunable for the same, within `GLIBC_TUNABLES`.
const ARENA_MAX_TUNABLE: &str = "glibc.malloc.arena_max";

/// The arenas the C libraries share: one. They allocate little and briefly (a statement's
/// values, a result's rows), and glibc's per-thread cache serves most of it without the
/// arena's lock.
pub const ARENAS: i32 = 1;

/// Whether [`limit_arenas`] set the limit in this process (a library user's process, or a
/// test's, never calls it).
static LIMITED: AtomicBool = AtomicBool::new(false);

/// Limits glibc's `malloc` to [`ARENAS`] arenas, unless the operator chose a count (see
/// [`operators_choice`]; glibc reads it itself). Call it first in `main`, before any thread
/// starts: a thread keeps the arena it first allocated in. Answers whether it set the limit.
/// Elsewhere than on glibc it does nothing.
pub fn limit_arenas() -> bool {
    let limited = operators_choice().is_none() && set_arena_max(ARENAS);
    LIMITED.store(limited, Ordering::Relaxed);
    limited
}

/// The operator's arena count, as glibc will read it: `MALLOC_ARENA_MAX` holding a count of one
/// or more, or `GLIBC_TUNABLES` naming `glibc.malloc.arena_max`. A `MALLOC_ARENA_MAX` glibc
/// would ignore (empty, 0, not a number) is not a choice: the built-in limit applies.
pub fn operators_choice() -> Option<String> {
    let variable = std::env::var(ARENA_MAX_VARIABLE).unwrap_or_default();
    if variable.trim().parse::<u32>().is_ok_and(|n| n > 0) {
        return Some(format!("{ARENA_MAX_VARIABLE}={variable}"));
    }
    let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
    tunables
        .split(':')
        .find(|t| t.starts_with(ARENA_MAX_TUNABLE))
        .map(|t| format!("GLIBC_TUNABLES {t}"))
}

/// The C libraries' heap, for the configuration logged at start-up: as [`limit_arenas`] left
/// it, not as it would have.
pub fn describe() -> String {
    match operators_choice() {
        Some(choice) => format!("glibc malloc arenas as chosen ({choice})"),
        None if LIMITED.load(Ordering::Relaxed) => {
            format!("glibc malloc limited to {ARENAS} arena")
        }
        None => "the system malloc's own arenas".to_owned(),
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max(arenas: i32) -> bool {
    // SAFETY: `mallopt` takes no pointers and takes the main arena's lock itself, so it is
    // sound at any time; called before other threads start, the limit applies to all of them.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_arenas: i32) -> bool {
    false
}
