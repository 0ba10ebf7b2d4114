//! Logging set-up: human-readable lines, or one JSON object per line.

use std::io::Write;

use crate::settings::LogFormat;

/// Logs to stderr at the level `RUST_LOG` asks for (default `info`), in `format`.
pub fn init_logging(format: LogFormat) {
    let mut builder =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"));
    match format {
        LogFormat::Text => {
            builder.format_timestamp_millis();
        }
        LogFormat::Json => {
            builder.format(|out, record| {
                let line = serde_json::json!({
                    "ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    "level": record.level().as_str(),
                    "target": record.target(),
                    "message": record.args().to_string(),
                });
                writeln!(out, "{line}")
            });
        }
    }
    // A second initialisation (tests) keeps the first logger.
    let _ = builder.try_init();
}
