//! The C libraries' heap. The binary allocates with jemalloc (see `main.rs`), but the C code it
//! links (SQLite, libpq and its OpenSSL) calls glibc's `malloc`, which gives each thread that
//! allocates an arena of its own, up to eight per core. The store's blocking threads each
//! filled one and kept what was freed in it resident: 4 to 5 MB of an engine run's peak on
//! SQLite (see the README's "Peak memory and the allocator").

/// The environment variable with which an operator chooses glibc's arena count instead.
pub const ARENA_MAX_VARIABLE: &str = "MALLOC_ARENA_MAX";

/// glibc's tunable for the same, within `GLIBC_TUNABLES`.
const ARENA_MAX_TUNABLE: &str = "glibc.malloc.arena_max";

/// The arenas the C libraries share: one. They allocate little and briefly (a statement's
/// values, a result's rows), and glibc's per-thread cache serves most of it without the
/// arena's lock.
pub const ARENAS: i32 = 1;

/// Limits glibc's `malloc` to [`ARENAS`] arenas, unless the operator chose a count through
/// `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES` (glibc reads those itself). Call it first in `main`,
/// before any thread starts: a thread keeps the arena it first allocated in. Answers whether
/// it set the limit. Elsewhere than on glibc it does nothing.
pub fn limit_arenas() -> bool {
    let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
    if std::env::var_os(ARENA_MAX_VARIABLE).is_some() || tunables.contains(ARENA_MAX_TUNABLE) {
        return false;
    }
    set_arena_max(ARENAS)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max(arenas: i32) -> bool {
    // SAFETY: `mallopt` only records the limit; glibc applies it when a thread next needs an
    // arena.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_arenas: i32) -> bool {
    false
}
