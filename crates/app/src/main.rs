//! `antaeus`: parses the command line, runs the command, and reports any error on one line.

use std::process::ExitCode;

use antaeus_app::cli::Cli;
use antaeus_app::commands::RowsRejected;
use antaeus_app::settings::Settings;
use antaeus_app::{c_heap, commands, telemetry};
use clap::Parser;
use clap::error::ErrorKind;

/// The allocator: jemalloc rather than glibc's malloc, whose arenas (one per thread, up to
/// eight per core) kept what was freed in them resident: at its peak an engine run held about
/// 59 MB of heap for at most 27 MB in use. See [`MALLOC_CONF`] for its settings, and the
/// README's "Peak memory and the allocator" for the figures.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read once before the first allocation: two arenas (threads share
/// them; each has its own cache of small blocks), and memory freed for about a second handed
/// back to the system rather than kept for ten (on the allocator's next activity: there is no
/// background thread). The environment variable `_RJEM_MALLOC_CONF` overrides any of them
/// (e.g. `_RJEM_MALLOC_CONF=narenas:8` on a machine with many cores and memory to spare).
#[cfg(not(target_env = "msvc"))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: MallocConf =
    MallocConf(c"narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0".as_ptr());

/// A C string jemalloc reads, as the `const char *` it expects.
#[cfg(not(target_env = "msvc"))]
#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);

// SAFETY: it points to a string literal, never written.
#[cfg(not(target_env = "msvc"))]
unsafe impl Sync for MallocConf {}

/// The exit status of a command line clap could not read.
const USAGE_ERROR: u8 = 2;

/// The exit status of an import that refused some rows and imported the others.
const ROWS_REJECTED: u8 = 3;

fn main() -> ExitCode {
    // Before any thread starts (see `c_heap`).
    c_heap::limit_arenas();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            let first = err.to_string();
            let first = first.lines().next().unwrap_or("invalid command line");
            eprintln!("{first} (see antaeus --help)");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let outcome = Settings::from_env()
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
        .and_then(|settings| {
            telemetry::init_logging(settings.log_format);
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?
                .block_on(commands::run(cli.command, settings))
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let line = format!("{err:#}");
            eprintln!(
                "error: {}",
                line.split_whitespace().collect::<Vec<_>>().join(" ")
            );
            // An import that refused rows did its work on the others: 3 tells scripts so (2 is
            // a usage error, above).
            if err.downcast_ref::<RowsRejected>().is_some() {
                ExitCode::from(ROWS_REJECTED)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
