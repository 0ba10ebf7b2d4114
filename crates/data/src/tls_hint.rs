//! What to do when `sslrootcert=system` cannot verify a PostgreSQL server.
//!
//! libpq is linked against an OpenSSL built from source, whose default trust store is
//! `/usr/local/ssl` rather than the system's (`/etc/ssl/certs` on Debian). libpq's own advice
//! for a missing root certificate is `sslrootcert=system`, which then fails with a bare
//! "certificate verify failed"; the hint says why and what works instead.

/// Where OpenSSL reads the trust store from when `SSL_CERT_FILE` / `SSL_CERT_DIR` are unset.
const HINT: &str = "(sslrootcert=system reads the trust store of the OpenSSL built into \
                    Antaeus, /usr/local/ssl, not the system's: give the CA file's path as \
                    sslrootcert, or set SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)";

/// `reason` (why libpq could not connect to `url`), with a hint appended when a certificate
/// could not be verified against `sslrootcert=system`.
pub(crate) fn explain_tls_failure(reason: String, url: &str) -> String {
    if reason.contains("certificate verify failed") && uses_system_roots(url) {
        format!("{reason} {HINT}")
    } else {
        reason
    }
}

/// Whether the URL's query says `sslrootcert=system`.
fn uses_system_roots(url: &str) -> bool {
    url.split_once('?').is_some_and(|(_, query)| {
        query
            .split('&')
            .any(|pair| pair.eq_ignore_ascii_case("sslrootcert=system"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILED: &str = "connection to server at \"db\" (10.0.0.5), port 5432 failed: SSL error: \
                          certificate verify failed";

    #[test]
    fn a_failed_verification_against_system_roots_says_what_works_instead() {
        let url = "postgres://u@db/antaeus?sslmode=verify-full&sslrootcert=system";
        let explained = explain_tls_failure(FAILED.into(), url);
        assert!(explained.starts_with(FAILED), "{explained}");
        assert!(explained.contains("SSL_CERT_FILE="), "{explained}");
    }

    #[test]
    fn other_failures_and_other_roots_are_left_as_libpq_said() {
        let with_file = "postgres://u@db/antaeus?sslmode=verify-full&sslrootcert=/etc/ca.pem";
        assert_eq!(explain_tls_failure(FAILED.into(), with_file), FAILED);
        let refused =
            "connection to server at \"db\" (10.0.0.5), port 5432 failed: Connection refused";
        let system = "postgres://u@db/antaeus?sslrootcert=system";
        assert_eq!(explain_tls_failure(refused.into(), system), refused);
        // A path that merely contains "system" is a file like any other.
        let path = "postgres://u@db/antaeus?sslrootcert=/etc/system.pem";
        assert_eq!(explain_tls_failure(FAILED.into(), path), FAILED);
    }
}
