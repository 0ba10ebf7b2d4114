//! Logging set-up.

/// Logs to stderr at the level `RUST_LOG` asks for (default `info`).
pub fn init_logging() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format_timestamp_millis()
        .init();
}
