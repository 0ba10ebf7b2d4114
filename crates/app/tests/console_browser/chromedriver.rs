//! Finding Chromium and chromedriver (or saying why a test is skipped), and running
//! chromedriver on a free port for as long as a test needs it.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where chromedriver is; default `/usr/bin/chromedriver` (Debian's `chromium-driver`).
const DRIVER_VAR: &str = "ANTAEUS_CHROMEDRIVER";
/// Where the browser is; default `/usr/bin/chromium` (Debian's `chromium`).
const BROWSER_VAR: &str = "ANTAEUS_CHROMIUM";
/// `1` makes a missing Chromium a failure instead of a skip (CI sets it).
const REQUIRE_VAR: &str = "ANTAEUS_REQUIRE_CHROMIUM";

/// The browser and its WebDriver, both found on this machine.
#[derive(Debug, Clone)]
pub struct Chromium {
    /// The Chromium executable.
    pub browser: PathBuf,
    /// The chromedriver executable.
    pub driver: PathBuf,
}

/// Chromium and chromedriver, or `None` with a `SKIPPED` line for `test` when either is
/// missing; panics instead when `ANTAEUS_REQUIRE_CHROMIUM=1`.
pub fn chromium(test: &str) -> Option<Chromium> {
    let found = Chromium {
        browser: executable(BROWSER_VAR, "/usr/bin/chromium"),
        driver: executable(DRIVER_VAR, "/usr/bin/chromedriver"),
    };
    let missing: Vec<String> = [&found.browser, &found.driver]
        .into_iter()
        .filter(|path| !path.is_file())
        .map(|path| path.display().to_string())
        .collect();
    if missing.is_empty() {
        return Some(found);
    }
    let missing = missing.join(" and ");
    if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
        panic!("{REQUIRE_VAR}=1 but {missing} is missing: install chromium and chromium-driver");
    }
    // Straight to stderr, past the test harness's capture, so that a skip is always seen.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED: {test} needs a real browser but {missing} is missing \
         (install chromium and chromium-driver, or run .ci/run)"
    );
    None
}

/// The path in `var`, or `default`.
fn executable(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map_or_else(|| PathBuf::from(default), PathBuf::from)
}

/// A chromedriver child process on a free port of 127.0.0.1, killed when dropped together
/// with the browsers it started (they share its process group).
pub struct ChromeDriver {
    child: Child,
    /// `http://127.0.0.1:<port>`, where WebDriver sessions are created.
    pub url: String,
}

impl ChromeDriver {
    /// Starts `chromium.driver` and waits until it answers `/status` as ready.
    pub async fn start(chromium: &Chromium) -> Self {
        let port = free_port();
        let child = Command::new(&chromium.driver)
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", chromium.driver.display()));
        let mut driver = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        driver.wait_until_ready().await;
        driver
    }

    /// Polls `/status` until chromedriver says it is ready (10 s at most).
    async fn wait_until_ready(&mut self) {
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(response) = http.get(format!("{}/status", self.url)).send().await
                && let Ok(status) = response.json::<serde_json::Value>().await
                && status["value"]["ready"] == true
            {
                return;
            }
            if let Ok(Some(exit)) = self.child.try_wait() {
                panic!("chromedriver exited before it was ready: {exit}");
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not get ready on {} within 10 s",
                self.url
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // Killing chromedriver alone would leave its browsers running: kill its whole group.
        let group = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(group) = group {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port on 127.0.0.1 that nothing listens on (the OS's pick, released for chromedriver).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
