//! Finding Prometheus' binaries, and the skip-or-fail rule when they are missing.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Set to `1` to fail instead of skipping when Prometheus is missing (CI sets it).
pub const REQUIRE_VAR: &str = "ANTAEUS_REQUIRE_PROMETHEUS";

/// The repository's `deploy/observability/` directory.
pub fn observability_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/observability")
}

/// The repository's root.
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The path of `name` (`prometheus`, `promtool`) on `PATH` or in `/usr/bin`; when it is missing,
/// prints a `SKIPPED` line naming `test` and returns `None`, or panics when Prometheus is
/// required.
pub fn find(name: &str, test: &str) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|path| path.is_file());
    if on_path.is_none() {
        let why = format!(
            "{test}: `{name}` is not installed (Debian's package `prometheus` provides it)"
        );
        assert!(
            std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
            "{why}, and {REQUIRE_VAR}=1 requires it"
        );
        // Straight to stderr, past the test harness's capture, so that a skip is always seen.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {why}; set {REQUIRE_VAR}=1 to fail instead"
        );
    }
    on_path
}

/// A free TCP port on 127.0.0.1 (free when this returns; a race with another process is
/// possible but unlikely).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits up to 30 s for `url` to answer 2xx; otherwise fails, showing the process's `log`.
pub async fn wait_until_ok(client: &reqwest::Client, url: &str, log: &Path) {
    for _ in 0..300 {
        let answer = client.get(url).send().await;
        if answer.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "{url} never answered 2xx; the log of the process behind it:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}
