//! glibc's arenas for the C libraries (`antaeus_app::c_heap`). Arenas belong to the process
//! and a thread keeps the first it was given, so each count runs in a child process of this
//! test binary: eight threads `malloc` at once, and glibc's own `malloc_info` counts the
//! arenas before and after.
#![cfg(all(target_os = "linux", target_env = "gnu"))]

use std::process::Command;
use std::sync::{Arc, Barrier};

/// Set in the child: `limit` (it calls `limit_arenas` first) or `default`.
const CHILD: &str = "ANTAEUS_TEST_C_HEAP_CHILD";

/// The child's test, run alone.
const CHILD_TEST: &str = "child_counts_the_arenas_new_threads_allocate_in";

/// What a child saw.
#[derive(Debug)]
struct Count {
    /// Arenas before its threads allocated.
    before: usize,
    /// And after.
    after: usize,
    /// What `limit_arenas` answered (false when not called).
    set: bool,
}

fn child(mode: &str, env: &[(&str, &str)]) -> Count {
    let output = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            CHILD_TEST,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, mode)
        .env_remove("MALLOC_ARENA_MAX")
        .env_remove("GLIBC_TUNABLES")
        .env_remove("LD_PRELOAD")
        .env_remove("MALLOC_ARENA_TEST")
        .envs(env.iter().copied())
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the child failed: {stdout}{stderr}"
    );
    // libtest prints the test's name, then on the same line what it printed.
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("arenas ").map(|(_, count)| count))
        .unwrap_or_else(|| panic!("the child printed no count: {stdout}"));
    let field = |name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {line}"))
            .to_owned()
    };
    Count {
        before: field("before=").parse().expect("a count"),
        after: field("after=").parse().expect("a count"),
        set: field("set=") == "true",
    }
}

#[test]
fn new_threads_share_the_existing_arenas_once_limited() {
    // Without the limit each new thread that allocates gets an arena of its own: what the
    // limit prevents (and what makes this test able to fail).
    let default = child("default", &[]);
    assert!(
        default.after >= default.before + 2,
        "eight threads without the limit should have made arenas: {default:?}"
    );
    let limited = child("limit", &[]);
    assert!(limited.set, "{limited:?}");
    assert_eq!(limited.after, limited.before, "{limited:?}");
}

#[test]
fn an_operators_arena_count_wins() {
    for env in [
        ("MALLOC_ARENA_MAX", "4"),
        ("GLIBC_TUNABLES", "glibc.malloc.arena_max=4"),
    ] {
        let count = child("limit", &[env]);
        assert!(!count.set, "{env:?}: {count:?}");
        assert_eq!(
            count.after, 4,
            "{env:?}: glibc's own limit applies: {count:?}"
        );
    }
}

#[test]
fn a_count_glibc_would_ignore_leaves_the_limit_in_place() {
    let count = child("limit", &[("MALLOC_ARENA_MAX", "0")]);
    assert!(count.set, "{count:?}");
    assert_eq!(count.after, count.before, "{count:?}");
}

#[test]
#[ignore = "run by the tests above, as a child process"]
fn child_counts_the_arenas_new_threads_allocate_in() {
    let mode = std::env::var(CHILD).expect("run as a child of the tests above");
    let set = mode == "limit" && antaeus_app::c_heap::limit_arenas();
    let before = arenas();
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                // SAFETY: a block allocated and freed here, never read.
                let block = unsafe { libc::malloc(200) };
                barrier.wait();
                unsafe { libc::free(block) };
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a thread");
    }
    println!("arenas before={before} after={} set={set}", arenas());
}

/// glibc's arenas, counted in its `malloc_info` report.
fn arenas() -> usize {
    let mut buffer: *mut libc::c_char = std::ptr::null_mut();
    let mut size: libc::size_t = 0;
    // SAFETY: a memory stream glibc writes the report into; read once closed, then freed.
    let report = unsafe {
        let stream = libc::open_memstream(&mut buffer, &mut size);
        assert!(!stream.is_null(), "open_memstream");
        assert_eq!(libc::malloc_info(0, stream), 0, "malloc_info");
        libc::fclose(stream);
        let bytes = std::slice::from_raw_parts(buffer.cast::<u8>(), size);
        let report = String::from_utf8_lossy(bytes).into_owned();
        libc::free(buffer.cast());
        report
    };
    report.matches("<heap nr=").count()
}
