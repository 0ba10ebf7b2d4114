//! Builds the running service from settings: database, services, scheduler, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use antaeus_core::billing::{BillingService, RunExecutor};
use antaeus_core::notify::OutboxWorker;
use antaeus_core::scheduler::{ScheduledRuns, Scheduler};
use antaeus_core::service::{
    ConsoleDeps, ConsoleService, PaymentEventDeps, PaymentEventService, RefundService,
};
use antaeus_core::{Clock, CustomerService, EventService, InvoiceService, RunService, Shutdown};
use antaeus_data::{Database, PoolOptions};
use antaeus_models::RunScope;
use antaeus_rest::{ApiState, ConsoleSecret, ConsoleState};
use anyhow::Context;
use chrono::TimeDelta;

use crate::observability::{DatabaseReadiness, ScheduleWatch, ServiceMetrics, prometheus};
use crate::seed::{self, ORIGINAL_CUSTOMERS, ORIGINAL_INVOICES_PER_CUSTOMER, SeedPlan};
use crate::settings::{ProviderSettings, SchedulerSettings, Settings};
use crate::wiring;

/// Opens the configured database and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let db = connect(settings).await?;
    let applied = db.migrate().await?;
    if applied > 0 {
        log::info!("applied {applied} migration(s) to {}", db.url());
    }
    Ok(db)
}

/// Opens the configured database as it is, for a command that must write nothing (a dry run):
/// one whose schema is not this version's is refused, never migrated.
pub async fn open_database_unchanged(settings: &Settings) -> anyhow::Result<Database> {
    let db = connect(settings).await?;
    if !db.is_migrated().await? {
        anyhow::bail!(
            "the database at {} is not migrated to this version (run `antaeus migrate` first; a dry run changes nothing, not even the schema)",
            db.url()
        );
    }
    Ok(db)
}

/// Warns when PostgreSQL keeps billing's dead row versions for good (autovacuum off on the
/// server or for a table billing churns), and billing slows as they pile up: for the commands
/// that bill (`serve`, `bill`, the benchmark), not for one-shot commands whose stderr is one
/// line. A failed check is not worth refusing to start.
pub async fn warn_if_autovacuum_off(db: &Database) {
    match db.autovacuum_off().await {
        Ok(true) => log::warn!(
            "PostgreSQL at {} runs without autovacuum (on the server, or for the invoices or outbox table): \
             every charge and every delivered event leaves dead row versions that nothing removes, so the \
             tables and their indexes grow without bound and what walks them (the outbox's backlog count \
             and its full walks, the claim's index, the console) slows as they grow; turn autovacuum on \
             (PostgreSQL's default)",
            db.url()
        ),
        Ok(false) => {}
        Err(e) => log::debug!("cannot tell whether autovacuum is on: {e}"),
    }
}

async fn connect(settings: &Settings) -> anyhow::Result<Database> {
    let options = PoolOptions {
        max_connections: settings.db_pool_size,
        ..PoolOptions::default()
    };
    Ok(Database::connect(&settings.database_url, options).await?)
}

/// The service, built and listening, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    db: Database,
    outbox: OutboxWorker,
    executor: Arc<RunExecutor>,
    scheduler: Option<Scheduler>,
    payments: PaymentEventService,
    refunds: RefundService,
    reconcile_every: std::time::Duration,
}

impl Application {
    /// Opens and migrates the database, seeds the original data set into an empty one (only
    /// with the simulated provider, and unless `ANTAEUS_SEED_DEMO_DATA=off`), wires billing,
    /// and binds the HTTP listener (port 0 picks a free port, as tests do).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, wiring::system_clock()).await
    }

    /// [`Application::build`] with an injected clock (tests of schedules).
    pub async fn build_with_clock(
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        // Bind first: a port in use is reported before any database work is done.
        let listener = TcpListener::bind(settings.http_addr)
            .with_context(|| format!("cannot listen on {}", settings.http_addr))?;
        let port = listener.local_addr()?.port();
        let db = open_database(settings).await?;
        warn_if_autovacuum_off(&db).await;
        log::info!("configuration: {}", settings.describe());
        log::info!("the C libraries' heap: {}", crate::c_heap::describe());
        seed_if_empty(&db, settings, clock.now()).await?;

        let provider = wiring::provider(&settings.provider)?;
        let billing = wiring::billing_service(&db, &provider, settings, clock.clone());
        let executor = Arc::new(RunExecutor::new(billing.clone()));
        let outbox = wiring::outbox_worker(&db, settings, clock.clone())?;
        let scheduler = settings
            .scheduler
            .enabled
            .then(|| scheduler(&settings.scheduler, executor.clone(), clock.clone()));
        let store = Arc::new(db.clone());
        let console = console_state(settings, &store, &billing, clock.clone());
        let payments = PaymentEventService::new(
            PaymentEventDeps {
                store: store.clone(),
                refunds: store.clone(),
                reader: wiring::webhook_reader(&settings.provider),
                provider: provider.charger.clone(),
                clock: clock.clone(),
            },
            settings.billing.retry.clone(),
            settings.billing.call_timeout,
        );
        let refunds = RefundService::new(
            store.clone(),
            provider.charger.clone(),
            clock.clone(),
            settings.billing.call_timeout,
        );
        let state = ApiState {
            customers: CustomerService::new(store.clone(), clock.clone()),
            invoices: InvoiceService::new(store.clone(), store.clone(), clock.clone())
                .with_limits(wiring::amount_limits(&settings.provider)),
            runs: RunService::new(
                store.clone(),
                store.clone(),
                store.clone(),
                executor.clone(),
                clock.clone(),
            ),
            events: EventService::new(store, clock.clone()),
            payments: payments.clone(),
            refunds: refunds.clone(),
            tokens: settings.tokens.clone(),
            readiness: Arc::new(DatabaseReadiness(db.clone())),
            metrics: Arc::new(ServiceMetrics {
                handle: prometheus(),
                db: db.clone(),
                billing,
                executor: executor.clone(),
                clock: clock.clone(),
                schedules: settings
                    .scheduler
                    .enabled
                    .then(|| ScheduleWatch::new(&settings.scheduler, clock.now())),
            }),
        };
        if settings.tokens.write.is_empty() {
            log::warn!(
                "ANTAEUS_API_TOKEN is not set: billing triggers, invoice retries and event redeliveries answer 403"
            );
        }
        let server = antaeus_rest::serve(listener, state, console)
            .with_context(|| format!("cannot serve on {}", settings.http_addr))?;
        log::info!("listening on http://{}:{port}", settings.http_addr.ip());
        Ok(Self {
            port,
            server,
            db,
            outbox,
            executor,
            scheduler,
            payments,
            refunds,
            reconcile_every: settings.reconcile_every,
        })
    }

    /// The port the API listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database the service uses.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Serves, delivers billing events, fires schedules and resumes runs whose instances died
    /// until the server is stopped (SIGINT or SIGTERM); then lets billing runs stop gracefully.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, signal) = Shutdown::new();
        let delivering = tokio::spawn(self.outbox.run(signal.clone()));
        let sweeping = {
            let executor = self.executor.clone();
            let every = executor.billing().config().heartbeat_interval();
            let signal = signal.clone();
            tokio::spawn(async move { executor.resume_abandoned_until(every, signal).await })
        };
        let reconciling = tokio::spawn(crate::reconcile::reconcile_until(
            self.payments.clone(),
            self.refunds.clone(),
            self.reconcile_every,
            signal.clone(),
        ));
        let scheduling = self
            .scheduler
            .map(|scheduler| tokio::spawn(scheduler.run(signal)));
        let served = self.server.await;
        stop.trigger();
        let _ = sweeping.await;
        let _ = reconciling.await;
        self.executor.stop().await;
        let _ = delivering.await;
        if let Some(scheduling) = scheduling {
            let _ = scheduling.await;
        }
        served
    }
}

/// The operator console's reads and its session secret (a random one, with a warning, when
/// `ANTAEUS_CONSOLE_SECRET` is unset).
fn console_state(
    settings: &Settings,
    store: &Arc<Database>,
    billing: &BillingService,
    clock: Arc<dyn Clock>,
) -> ConsoleState {
    let secret = settings.console_secret.clone().unwrap_or_else(|| {
        if settings.tokens.any() {
            log::warn!(
                "ANTAEUS_CONSOLE_SECRET is not set: console sessions are signed with a random per-process secret, so they end at a restart and are refused by other instances behind a load balancer; set it (32+ characters) to the same value on every instance"
            );
        }
        ConsoleSecret::random()
    });
    ConsoleState {
        service: ConsoleService::new(ConsoleDeps {
            stats: store.clone(),
            runs: store.clone(),
            invoices: store.clone(),
            outbox: store.clone(),
            console: store.clone(),
            health: Arc::new(billing.clone()),
            clock,
        }),
        secret,
        trusted_proxies: settings.trusted_proxies.clone(),
    }
}

/// Seeds the original data set (100 customers, 1,000 invoices, due `now`) into an empty
/// database, unless the settings say otherwise.
async fn seed_if_empty(
    db: &Database,
    settings: &Settings,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    if !db.is_empty().await? {
        return Ok(());
    }
    if let Some(reason) = not_seeding_because(settings) {
        log::info!("empty database: the original data set is not seeded: {reason}");
        return Ok(());
    }
    let report = seed::seed(
        db,
        SeedPlan {
            customers: ORIGINAL_CUSTOMERS,
            invoices_per_customer: ORIGINAL_INVOICES_PER_CUSTOMER,
            seed: rand::random(),
            all_pending: false,
            // Due when they are made, so the next run started by hand charges them.
            due_at: Some(now),
        },
    )
    .await
    .context("cannot seed the initial data")?;
    log::info!(
        "empty database: seeded {} customers and {} invoices",
        report.customers,
        report.invoices
    );
    Ok(())
}

/// Why `serve` must leave an empty database empty, if it must: the original data set is demo
/// data, for the simulated provider only (a real one would charge its invented invoices), and
/// `ANTAEUS_SEED_DEMO_DATA=off` turns it off altogether.
fn not_seeding_because(settings: &Settings) -> Option<&'static str> {
    if !settings.seed_demo_data {
        return Some("ANTAEUS_SEED_DEMO_DATA is off");
    }
    match settings.provider {
        ProviderSettings::Simulated(_) => None,
        ProviderSettings::Http(_) => Some(
            "it is demo data, seeded only with the simulated provider, and ANTAEUS_PAYMENT_PROVIDER is http",
        ),
        ProviderSettings::Stripe { .. } => Some(
            "it is demo data, seeded only with the simulated provider, and ANTAEUS_PAYMENT_PROVIDER is stripe",
        ),
    }
}

/// The monthly run and the retry sweep.
pub fn scheduler(
    settings: &SchedulerSettings,
    executor: Arc<RunExecutor>,
    clock: Arc<dyn Clock>,
) -> Scheduler {
    let schedules = vec![
        ScheduledRuns {
            name: "monthly".into(),
            schedule: Arc::new(settings.monthly.clone()),
            scope: RunScope::All,
        },
        ScheduledRuns {
            name: "retry".into(),
            schedule: Arc::new(settings.retry.clone()),
            scope: RunScope::Retries,
        },
    ];
    log::info!(
        "scheduler on: monthly run at `{}`, retry sweep at `{}` (UTC)",
        settings.monthly.expression(),
        settings.retry.expression()
    );
    let catch_up = TimeDelta::from_std(settings.catch_up).unwrap_or(TimeDelta::hours(1));
    Scheduler::new(executor, schedules, clock, catch_up)
}
