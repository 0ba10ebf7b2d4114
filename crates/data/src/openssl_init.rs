//! OpenSSL, which libpq's TLS runs on, set up before the first PostgreSQL connection.

/// Initializes OpenSSL once, without its exit handler. By default OpenSSL frees its locks from
/// an `atexit` handler; a pool thread still opening a connection when the process exits (a CLI
/// command ending while the pool fills) then takes a freed lock and the process dies of a
/// segmentation fault instead of exiting with its status (OpenSSL issue 3505). Calling this
/// before libpq first touches OpenSSL makes OpenSSL leave its state to the operating system.
pub(crate) fn init() {
    openssl_sys::init();
}
