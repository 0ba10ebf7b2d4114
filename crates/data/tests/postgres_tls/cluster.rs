//! A throwaway PostgreSQL cluster that takes TCP connections over TLS only: `initdb` in a
//! temporary directory, `ssl = on` with a certificate of our own CA, `hostssl` lines and no
//! plain `host` line in `pg_hba.conf`, a free port on localhost and its Unix socket in the
//! same directory. Dropping it stops the server (even when a test panics) and removes it all.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use crate::certs::Certs;
use crate::tools::Tools;

/// The superuser `initdb` creates, whoever owns the cluster.
pub const USER: &str = "antaeus";

/// TCP connections must be TLS; the Unix socket (for `pg_ctl`) needs none.
const PG_HBA: &str = "\
local all all trust
hostssl all all 127.0.0.1/32 trust
hostssl all all ::1/128 trust
";

/// A running cluster; stopped and removed when dropped.
pub struct TlsCluster {
    tools: Tools,
    /// Holds `data/`, the certificates, the socket and the server's log.
    dir: PathBuf,
    /// The port it listens on, on `localhost` (127.0.0.1 and ::1).
    pub port: u16,
    /// Its certificates.
    pub certs: Certs,
}

impl TlsCluster {
    /// Makes and starts the cluster, or `None` when the programs it needs are missing (see
    /// [`Tools::find`]).
    pub fn start(test: &str) -> Option<Self> {
        let tools = Tools::find(test)?;
        // Made by the cluster's user, so it owns the directory (mode 0700).
        let mktemp = tools.command(Path::new("mktemp"), Path::new("/"));
        let dir = tools.run(
            with_args(mktemp, &["-d", "/tmp/antaeus-pgtls.XXXXXX"]),
            "make a directory",
        );
        let dir = PathBuf::from(String::from_utf8_lossy(&dir.stdout).trim());
        // From here on, dropping the cluster cleans up whatever a failing step left.
        let mut cluster = Self {
            tools,
            certs: Certs::in_dir(&dir),
            dir,
            port: 0,
        };
        cluster.certs.make(&cluster.tools, &cluster.dir);
        cluster.init();
        cluster.port = cluster.start_on_a_free_port();
        Some(cluster)
    }

    /// Starts the server on a free port, and on another if something took that one between
    /// our look and the server's bind.
    fn start_on_a_free_port(&self) -> u16 {
        let log = self.dir.join("server.log");
        for _ in 0..3 {
            let port = free_port();
            let _ = std::fs::remove_file(&log);
            let started = self
                .pg_ctl(&["-l", "server.log", "-w", "-t", "60"])
                .arg("-o")
                .arg(format!("-p {port}"))
                .arg("start")
                .output()
                .is_ok_and(|out| out.status.success());
            if started {
                return port;
            }
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                log.contains("Address already in use"),
                "pg_ctl could not start the cluster; server log:\n{log}"
            );
        }
        panic!("three free ports were taken before the cluster could bind one");
    }

    /// `initdb`, then our settings and `pg_hba.conf`.
    fn init(&self) {
        let initdb = self
            .tools
            .command(&self.tools.pg_bin.join("initdb"), &self.dir);
        let args = ["-D", "data", "-U", USER, "--auth=trust", "--no-sync"];
        self.tools.run(with_args(initdb, &args), "initdb");
        let data = self.dir.join("data");
        let mut settings = String::from("\n# antaeus TLS test\n");
        for (name, value) in [
            ("listen_addresses", "'localhost'".into()),
            ("unix_socket_directories", quoted(&self.dir)),
            ("ssl", "on".into()),
            ("ssl_cert_file", quoted(&self.certs.server_cert)),
            ("ssl_key_file", quoted(&self.certs.server_key)),
            ("fsync", "off".into()),
        ] {
            let _ = writeln!(settings, "{name} = {value}");
        }
        let conf = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf).expect("read postgresql.conf");
        text.push_str(&settings);
        std::fs::write(&conf, text).expect("write postgresql.conf");
        std::fs::write(data.join("pg_hba.conf"), PG_HBA).expect("write pg_hba.conf");
    }

    /// `pg_ctl -D data <args>`, as the cluster's user.
    fn pg_ctl(&self, args: &[&str]) -> std::process::Command {
        let pg_ctl = self
            .tools
            .command(&self.tools.pg_bin.join("pg_ctl"), &self.dir);
        let mut command = with_args(pg_ctl, &["-D", "data"]);
        command.args(args);
        command
    }

    /// `postgres://antaeus@<host>:<port>/postgres?<params>`.
    pub fn url(&self, host: &str, params: &str) -> String {
        format!("postgres://{USER}@{host}:{}/postgres?{params}", self.port)
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        if !self.dir.join("data/postmaster.pid").exists() {
            let _ = std::fs::remove_dir_all(&self.dir);
            return;
        }
        let pg_ctl = self
            .tools
            .command(&self.tools.pg_bin.join("pg_ctl"), &self.dir);
        let stopped = with_args(pg_ctl, &["-D", "data", "-m", "immediate", "-w", "stop"])
            .output()
            .is_ok_and(|out| out.status.success());
        if !stopped {
            eprintln!("could not stop the test cluster in {}", self.dir.display());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn with_args(mut command: std::process::Command, args: &[&str]) -> std::process::Command {
    command.args(args);
    command
}

/// A path as a `postgresql.conf` string.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "''"))
}

/// A port on localhost that nothing listens on (the OS's pick, released for the server).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}
