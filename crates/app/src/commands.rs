//! What each subcommand does.

mod bench;
mod bill;
mod bill_progress;
mod import;
mod run_summary;
mod simulate_provider;

use anyhow::Context;

pub use import::RowsRejected;

use crate::cli::{Command, DeploymentArgs, SeedArgs};
use crate::progress::{Progress, per_second};
use crate::seed::{self, SeedPlan};
use crate::settings::Settings;
use crate::startup::{self, Application};

/// Runs `command` (serve when `None`) with `settings`.
pub async fn run(command: Option<Command>, settings: Settings) -> anyhow::Result<()> {
    log::debug!("configuration: {settings:?}");
    match command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&settings).await,
        Command::Migrate => migrate(&settings).await,
        Command::Seed(args) => seed(&settings, args).await,
        Command::Import(command) => import::import(&settings, command).await,
        Command::Bill(args) => bill::bill(&settings, args).await,
        Command::Deployment(args) => deployment(&settings, args).await,
        Command::SimulateProvider(args) => simulate_provider::simulate_provider(args).await,
        Command::Bench(args) => bench::bench(args).await,
        Command::BenchScenario(args) => bench::scenario(args).await,
    }
}

async fn serve(settings: &Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    app.run_until_stopped()
        .await
        .context("the HTTP server failed")
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    startup::open_database(settings).await?;
    println!("database {} is up to date", settings.database_url);
    Ok(())
}

async fn deployment(settings: &Settings, args: DeploymentArgs) -> anyhow::Result<()> {
    let db = startup::open_database(settings).await?;
    let before = db.deployment_id().await?;
    if args.renew {
        let now = db.renew_deployment_id().await?;
        println!("deployment id {before} renewed: new charge keys are antaeus-{now}-<invoice>-<n>");
    } else {
        println!("{before}");
    }
    Ok(())
}

async fn seed(settings: &Settings, args: SeedArgs) -> anyhow::Result<()> {
    let db = startup::open_database(settings).await?;
    let plan = SeedPlan {
        customers: args.customers,
        invoices_per_customer: args.invoices_per_customer,
        seed: args.seed.unwrap_or_else(rand::random),
        all_pending: false,
        due_at: Some(chrono::Utc::now()),
    };
    // Towards the plan's invoices, or its customers when they get none.
    let by_invoices = plan.invoices_per_customer > 0;
    let progress = Progress::on_terminal(Some(if by_invoices {
        plan.customers.saturating_mul(plan.invoices_per_customer)
    } else {
        plan.customers
    }));
    let report = seed::seed_observed(&db, plan, |done| {
        let position = if by_invoices {
            done.invoices
        } else {
            done.customers
        };
        progress.update(position, || {
            format!(
                "{} customers, {} invoices ({:.0} invoices/s)",
                done.customers,
                done.invoices,
                per_second(done.invoices, done.elapsed)
            )
        })
    })
    .await
    .context("seeding failed")?;
    progress.finish();
    let secs = report.elapsed.as_secs_f64();
    println!(
        "seeded {} customers and {} invoices in {secs:.1}s ({:.0} invoices/s, seed {})",
        report.customers,
        report.invoices,
        report.invoices as f64 / secs.max(1e-9),
        plan.seed
    );
    Ok(())
}
