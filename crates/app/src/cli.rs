//! The `antaeus` command line.

use clap::{Args, Parser, Subcommand};

/// Antaeus: charges your customers' invoices through a payment provider, once a month and
/// whenever a retry is due.
///
/// Configuration comes from the environment: ANTAEUS_DATABASE_URL (default sqlite://antaeus.db),
/// ANTAEUS_HTTP_ADDR (default 127.0.0.1:7000), RUST_LOG (default info). See the README.
#[derive(Debug, Parser)]
#[command(name = "antaeus", version)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Migrate the database, seed the original data if it is empty (only with the simulated
    /// provider, unless ANTAEUS_SEED_DEMO_DATA=off), and serve the REST API.
    Serve,
    /// Apply pending database migrations, then exit.
    Migrate,
    /// Add customers and invoices by the original rule (random currency per customer, amounts
    /// 10 to 500, each customer's first invoice PENDING and the rest PAID).
    Seed(SeedArgs),
    /// Import customers or invoices from a CSV or NDJSON file, in batches, upserting by
    /// externalId: importing the same file twice changes nothing. Refused rows go to a report
    /// (line, field, reason) and make the exit status 3.
    #[command(subcommand, after_help = IMPORT_EXIT_STATUSES)]
    Import(ImportCommand),
    /// Run billing once to completion: charge every due invoice, take over the claims of dead
    /// instances, and print a summary. Exits 0 when the run completed.
    Bill(BillArgs),
    /// Print this database's deployment id (in every charge key and in the provider's
    /// metadata), or give it a new one with --renew: a copy of the database restored beside the
    /// original must not charge under the original's keys.
    Deployment(DeploymentArgs),
    /// Serve the simulated payment provider over the HTTP provider protocol (for local runs
    /// and tests of ANTAEUS_PAYMENT_PROVIDER=http). Configured by ANTAEUS_SIMULATED_* and,
    /// optionally, ANTAEUS_PROVIDER_TOKEN.
    SimulateProvider(SimulateProviderArgs),
    /// Benchmark billing: a million due invoices (by default) on SQLite and, when
    /// ANTAEUS_BENCH_POSTGRES_URL is set, PostgreSQL, against the provider and storage ceilings.
    /// Prints a table and appends a JSON line per store to target/bench/results.jsonl.
    Bench(BenchArgs),
    /// One benchmark scenario in this process (run by `antaeus bench`).
    #[command(hide = true)]
    BenchScenario(BenchScenarioArgs),
}

/// Options of `antaeus deployment`.
#[derive(Debug, Args)]
pub struct DeploymentArgs {
    /// Give the database a new deployment id. Keys already sent keep the id they were sent
    /// with; new keys use the new one. Run it on a restored copy before it charges anything,
    /// never on the database production charges from.
    #[arg(long)]
    pub renew: bool,
}

/// The exit statuses of `antaeus import`, in its `--help`.
pub const IMPORT_EXIT_STATUSES: &str = "\
Exit status:
  0  every row was imported
  1  the import stopped: a missing or unknown column, an unreadable input, the database
     (batches written before it stay imported)
  2  a usage error: an unknown option or command, a bad option value (nothing was read)
  3  some rows were rejected (see the rejects report); the others were imported";

/// What `antaeus import` imports.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Customers. Columns: externalId and currency (required), name, email, customerRef,
    /// paymentMethodRef. A known externalId takes the optional columns the file has (an empty
    /// cell or a JSON null clears the value) and keeps the others; a different currency is
    /// refused.
    #[command(after_help = IMPORT_EXIT_STATUSES)]
    Customers(ImportArgs),
    /// Invoices. Columns: externalId (required), customerExternalId or customerId (one of
    /// them), amount (a decimal such as 123.45, above zero), currency (the customer's), dueAt
    /// (RFC 3339; default: now), description. An invoice of the customer with the same
    /// externalId is found, not copied; with other fields it is refused.
    #[command(after_help = IMPORT_EXIT_STATUSES)]
    Invoices(ImportArgs),
}

/// Options of `antaeus import customers|invoices`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to read: CSV with a header row, or NDJSON (one object per line); `-` reads
    /// standard input.
    pub file: std::path::PathBuf,
    /// The file's format; by default its extension's (.csv; .ndjson or .jsonl).
    #[arg(long, value_enum)]
    pub format: Option<crate::import::Format>,
    /// Write every refused row (line, field, reason) to this file, as CSV or NDJSON by its
    /// extension (else in the input's format). Without it, the first few go to stderr.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<std::path::PathBuf>,
    /// Rows written per transaction. A row naming an externalId its batch already names
    /// starts a new batch, so repeated rows are applied in file order whatever the size.
    #[arg(long, default_value_t = crate::import::DEFAULT_BATCH_SIZE as u64, value_parser = clap::value_parser!(u64).range(1..=50_000))]
    pub batch_size: u64,
    /// Check every row against the database and report what the import would do (the same
    /// summary, rejects and exit status), writing nothing: each batch is rolled back.
    #[arg(long)]
    pub dry_run: bool,
}

/// Options of `antaeus bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Due invoices per scenario.
    #[arg(long, default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub invoices: u64,
    /// Provider latency L of the real-provider scenario, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    pub latency_ms: u64,
    /// Provider latency jitter, in milliseconds (uniform, either way).
    #[arg(long, default_value_t = 10)]
    pub jitter_ms: u64,
    /// Concurrent provider calls C.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub concurrency: u64,
    /// Where results.jsonl is appended.
    #[arg(long, default_value = "target/bench")]
    pub out_dir: std::path::PathBuf,
}

/// Options of `antaeus bench-scenario`.
#[derive(Debug, Args)]
pub struct BenchScenarioArgs {
    /// `sqlite` or `postgres` (the server in ANTAEUS_BENCH_POSTGRES_URL).
    #[arg(long)]
    pub store: String,
    /// `storage`, `by_hand` or `engine`.
    #[arg(long)]
    pub mode: String,
    /// Due invoices.
    #[arg(long)]
    pub invoices: u64,
    /// Provider latency in milliseconds.
    #[arg(long)]
    pub latency_ms: u64,
    /// Provider latency jitter in milliseconds.
    #[arg(long)]
    pub jitter_ms: u64,
    /// Concurrent provider calls.
    #[arg(long)]
    pub concurrency: u64,
}

/// Options of `antaeus bill`.
#[derive(Debug, Args)]
pub struct BillArgs {
    /// Names the run: a key that names an existing run prints that run and charges nothing.
    /// A new key is generated when omitted.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Charge only scheduled retries that are due (dunning steps, unknown outcomes' backoff,
    /// manual retries), as the hourly sweep does; without it, everything due, as the monthly
    /// run does.
    #[arg(long)]
    pub retries: bool,
}

/// Options of `antaeus simulate-provider`.
#[derive(Debug, Args)]
pub struct SimulateProviderArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7070")]
    pub addr: std::net::SocketAddr,
}

/// Options of `antaeus seed`.
#[derive(Debug, Args)]
pub struct SeedArgs {
    /// How many customers to add.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
    pub customers: u64,
    /// How many invoices each customer gets.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub invoices_per_customer: u64,
    /// Seed of the random generator, for reproducible data (random when omitted).
    #[arg(long)]
    pub seed: Option<u64>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_means_serve() {
        assert!(Cli::try_parse_from(["antaeus"]).unwrap().command.is_none());
    }

    #[test]
    fn import_takes_a_kind_a_file_and_options() {
        let cli = Cli::try_parse_from([
            "antaeus",
            "import",
            "invoices",
            "-",
            "--format",
            "ndjson",
            "--rejects",
            "bad.csv",
        ])
        .unwrap();
        let Some(Command::Import(ImportCommand::Invoices(args))) = cli.command else {
            panic!("{cli:?}");
        };
        assert_eq!(args.file, std::path::Path::new("-"));
        assert_eq!(args.format, Some(crate::import::Format::Ndjson));
        assert_eq!(
            args.rejects.as_deref(),
            Some(std::path::Path::new("bad.csv"))
        );
        assert_eq!(args.batch_size, 1_000);
        for bad in [
            vec!["antaeus", "import", "customers"],
            vec!["antaeus", "import", "payments", "x.csv"],
            vec!["antaeus", "import", "customers", "x.csv", "--format", "xml"],
            vec![
                "antaeus",
                "import",
                "customers",
                "x.csv",
                "--batch-size",
                "0",
            ],
        ] {
            assert!(Cli::try_parse_from(&bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn seed_counts_are_validated() {
        let ok = Cli::try_parse_from([
            "antaeus",
            "seed",
            "--customers",
            "5",
            "--invoices-per-customer",
            "1",
        ]);
        assert!(ok.is_ok());
        for bad in [
            ["--customers", "-1"],
            ["--customers", "x"],
            ["--invoices-per-customer", "2000000"],
        ] {
            let args = ["antaeus", "seed", bad[0], bad[1]];
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
