//! Builds the running service from settings: database, services, HTTP server.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use antaeus_core::notify::OutboxWorker;
use antaeus_core::{CustomerService, InvoiceService, Shutdown};
use antaeus_data::{Database, PoolOptions};
use antaeus_rest::ApiState;
use anyhow::Context;

use crate::seed::{self, ORIGINAL_CUSTOMERS, ORIGINAL_INVOICES_PER_CUSTOMER, SeedPlan};
use crate::settings::Settings;
use crate::wiring;

/// Opens the configured database and applies pending migrations.
pub async fn open_database(settings: &Settings) -> anyhow::Result<Database> {
    let options = PoolOptions {
        max_connections: settings.db_pool_size,
        ..PoolOptions::default()
    };
    let db = Database::connect(&settings.database_url, options).await?;
    let applied = db.migrate().await?;
    if applied > 0 {
        log::info!("applied {applied} migration(s) to {}", db.url());
    }
    Ok(db)
}

/// The service, built and listening, not yet serving.
pub struct Application {
    port: u16,
    server: Server,
    db: Database,
    outbox: OutboxWorker,
}

impl Application {
    /// Opens and migrates the database, seeds the original data set into an empty one, and
    /// binds the HTTP listener (port 0 picks a free port, as tests do).
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        // Bind first: a port in use is reported before any database work is done.
        let listener = TcpListener::bind(settings.http_addr)
            .with_context(|| format!("cannot listen on {}", settings.http_addr))?;
        let port = listener.local_addr()?.port();
        let db = open_database(settings).await?;
        log::info!("configuration: {settings:?}");
        if db.is_empty().await? {
            let report = seed::seed(
                &db,
                SeedPlan {
                    customers: ORIGINAL_CUSTOMERS,
                    invoices_per_customer: ORIGINAL_INVOICES_PER_CUSTOMER,
                    seed: rand::random(),
                },
            )
            .await
            .context("cannot seed the initial data")?;
            log::info!(
                "empty database: seeded {} customers and {} invoices",
                report.customers,
                report.invoices
            );
        }
        let store = Arc::new(db.clone());
        let state = ApiState {
            customers: CustomerService::new(store.clone()),
            invoices: InvoiceService::new(store),
        };
        let outbox = wiring::outbox_worker(&db, settings, wiring::system_clock())?;
        let server = antaeus_rest::serve(listener, state)
            .with_context(|| format!("cannot serve on {}", settings.http_addr))?;
        log::info!("listening on http://{}:{port}", settings.http_addr.ip());
        Ok(Self {
            port,
            server,
            db,
            outbox,
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

    /// Serves, and delivers billing events, until the server is stopped (SIGINT or SIGTERM).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let (stop, signal) = Shutdown::new();
        let delivering = tokio::spawn(self.outbox.run(signal));
        let served = self.server.await;
        stop.trigger();
        let _ = delivering.await;
        served
    }
}
