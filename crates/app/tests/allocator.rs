//! The `antaeus` binary allocates with jemalloc, set as its `main.rs` says: a build that fell
//! back to the system allocator, or lost the settings, would pass every other test and keep
//! 15 to 28% more memory at its peak in a benchmark run (README, "Peak memory and the
//! allocator").

#![cfg(not(target_env = "msvc"))]

use std::process::Command;

#[test]
fn the_binary_allocates_with_jemalloc_in_two_arenas_handing_back_memory_freed_for_a_second() {
    // `stats_print` (added through the variable that may override the settings) makes jemalloc
    // print its options when the process exits; the system allocator prints nothing.
    let output = Command::new(env!("CARGO_BIN_EXE_antaeus"))
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .unwrap();
    assert!(output.status.success());
    let stats = String::from_utf8_lossy(&output.stderr);
    for option in [
        "opt.narenas: 2\n",
        "opt.dirty_decay_ms: 1000 ",
        "opt.muzzy_decay_ms: 0 ",
    ] {
        assert!(stats.contains(option), "{option:?} not in:\n{stats}");
    }
}
