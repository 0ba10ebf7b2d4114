//! A self-signed CA and the server certificate it signs (for `localhost`, `127.0.0.1` and
//! `::1`), plus a second CA that signs nothing, all made with the `openssl` tool.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::tools::Tools;

/// The extensions, in a config of our own so no system `openssl.cnf` adds or clashes with any.
const CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
authorityKeyIdentifier = keyid
";

/// The files, all in the cluster's directory.
pub struct Certs {
    /// The CA that signed the server's certificate (a client's `sslrootcert`).
    pub ca: PathBuf,
    /// A CA that signed nothing the server has: verifying against it must fail.
    pub other_ca: PathBuf,
    /// The server's certificate (`ssl_cert_file`).
    pub server_cert: PathBuf,
    /// The server's private key (`ssl_key_file`), readable by its owner only.
    pub server_key: PathBuf,
}

impl Certs {
    /// Where the files are (or will be) in `dir`.
    pub fn in_dir(dir: &Path) -> Self {
        Self {
            ca: dir.join("ca.pem"),
            other_ca: dir.join("other-ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server.key"),
        }
    }

    /// Makes the CAs, the server's key and its certificate in `dir`, as the cluster's user.
    pub fn make(&self, tools: &Tools, dir: &Path) {
        let config = dir.join("tls.cnf");
        std::fs::write(&config, CONFIG).expect("write the openssl config");
        // `openssl req` making a new P-256 key at `key`, and `out` as `args` say.
        let new_key = |key: &str, out: &str, args: &[&str], what: &str| {
            let mut command = tools.command(&tools.openssl, dir);
            command
                .args(["req", "-new", "-nodes", "-newkey", "ec"])
                .args(["-pkeyopt", "ec_paramgen_curve:P-256", "-config"])
                .arg(&config)
                .args(["-keyout", key, "-out", out])
                .args(args);
            tools.run(command, what);
        };
        let ca = |subject| ["-x509", "-extensions", "ca", "-days", "2", "-subj", subject];
        new_key(
            "ca.key",
            "ca.pem",
            &ca("/CN=Antaeus test CA"),
            "make the CA",
        );
        new_key(
            "other-ca.key",
            "other-ca.pem",
            &ca("/CN=Another CA"),
            "make another CA",
        );
        let request = ["-subj", "/CN=localhost"];
        new_key(
            "server.key",
            "server.csr",
            &request,
            "make the server's key",
        );
        // `x509 -req` reads its extensions from `-extfile`, not `-config`.
        let mut sign = tools.command(&tools.openssl, dir);
        sign.args(["x509", "-req", "-in", "server.csr", "-days", "2"])
            .args(["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"])
            .args(["-out", "server.pem", "-extensions", "server", "-extfile"])
            .arg(&config);
        tools.run(sign, "sign the server's certificate");

        // PostgreSQL refuses a key that others may read.
        std::fs::set_permissions(&self.server_key, std::fs::Permissions::from_mode(0o600))
            .expect("make the server key private");
    }
}
