//! The programs a throwaway cluster needs (`initdb`, `pg_ctl`, `openssl`), found on this
//! machine or reported missing, and running them as the user that may own a cluster.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `1` makes missing programs a failure instead of a skip (`.ci/run` sets it).
const REQUIRE_VAR: &str = "ANTAEUS_REQUIRE_TLS_POSTGRES";

/// initdb refuses to run as root; as root, the cluster belongs to this user instead.
const CLUSTER_USER_FOR_ROOT: &str = "postgres";

/// The programs, and who runs them.
#[derive(Debug, Clone)]
pub struct Tools {
    /// The directory holding `initdb` and `pg_ctl` (one PostgreSQL version's).
    pub pg_bin: PathBuf,
    /// The `openssl` command line tool.
    pub openssl: PathBuf,
    /// `Some("postgres")` when this process is root: every command runs as that user.
    run_as: Option<&'static str>,
}

impl Tools {
    /// The programs, or `None` after a `SKIPPED` line naming what is missing; with
    /// `ANTAEUS_REQUIRE_TLS_POSTGRES=1`, a panic instead.
    pub fn find(test: &str) -> Option<Self> {
        match Self::locate() {
            Ok(tools) => Some(tools),
            Err(missing) => {
                if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
                    panic!("{REQUIRE_VAR}=1 but {missing}");
                }
                // Straight to stderr, past the harness's capture, so that a skip is always seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED: {test} starts a TLS-only PostgreSQL cluster, but {missing} \
                     (Debian: apt-get install postgresql openssl)"
                );
                None
            }
        }
    }

    fn locate() -> Result<Self, String> {
        let pg_bin = pg_bin_dir().ok_or("initdb and pg_ctl were not found")?;
        let openssl = on_path("openssl").ok_or("openssl was not found")?;
        let run_as = rustix::process::geteuid()
            .is_root()
            .then_some(CLUSTER_USER_FOR_ROOT);
        let tools = Self {
            pg_bin,
            openssl,
            run_as,
        };
        if let Some(user) = run_as {
            let works = tools
                .command(Path::new("true"), Path::new("/"))
                .output()
                .is_ok_and(|out| out.status.success());
            if !works {
                return Err(format!(
                    "this process is root (initdb refuses to run as root) and cannot run \
                     commands as the user {user:?} with runuser"
                ));
            }
        }
        Ok(tools)
    }

    /// `program` run in `dir` as the cluster's user (through `runuser` when this process is
    /// root, so files it writes belong to that user).
    pub fn command(&self, program: &Path, dir: &Path) -> Command {
        let mut command = match self.run_as {
            Some(user) => {
                let mut runuser = Command::new("runuser");
                runuser.args(["-u", user, "--"]).arg(program);
                runuser
            }
            None => Command::new(program),
        };
        command.current_dir(dir);
        command
    }

    /// Runs the command to completion: its output, or a panic quoting what it printed.
    pub fn run(&self, mut command: Command, what: &str) -> Output {
        let output = command
            .output()
            .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
        assert!(
            output.status.success(),
            "{what} failed ({}): {command:?}\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

/// Where `initdb` and `pg_ctl` are: Debian's `/usr/lib/postgresql/<newest>/bin`, or else the
/// directory an `initdb` on `PATH` really lives in (links resolved).
fn pg_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    let debian = versions.into_iter().rev().map(|(_, bin)| bin);
    let on_path = on_path("initdb")
        .and_then(|initdb| initdb.canonicalize().ok())
        .and_then(|initdb| initdb.parent().map(Path::to_path_buf));
    debian
        .chain(on_path)
        .find(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
}

/// `program` in a directory of `PATH`.
fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
