//! `antaeus simulate-provider`: the simulated provider over HTTP.

use std::net::TcpListener;
use std::sync::Arc;

use anyhow::Context;

use crate::cli::SimulateProviderArgs;
use crate::provider::{SimulatedPaymentProvider, SimulationProfile, serve_simulator};
use crate::settings::Env;

/// Serves the simulated provider until SIGINT or SIGTERM.
pub async fn simulate_provider(args: SimulateProviderArgs) -> anyhow::Result<()> {
    let lookup = |name: &str| std::env::var(name).ok();
    let env = Env::new(&lookup);
    let profile = SimulationProfile::from_env(&env).context("invalid configuration")?;
    let token = env.optional("ANTAEUS_PROVIDER_TOKEN");
    let listener =
        TcpListener::bind(args.addr).with_context(|| format!("cannot listen on {}", args.addr))?;
    let provider = Arc::new(SimulatedPaymentProvider::new(profile));
    log::info!(
        "simulated payment provider on http://{} ({:?}, seed {})",
        args.addr,
        profile.outcomes,
        profile.seed
    );
    let server = serve_simulator(listener, provider.clone(), token)
        .with_context(|| format!("cannot serve on {}", args.addr))?;
    server.await.context("the simulator server failed")?;
    let ledger = provider.summary();
    log::info!(
        "simulated provider stopped: {} calls, {} charges, {} invoices charged twice",
        ledger.calls,
        ledger.charges,
        ledger.double_charged.len()
    );
    Ok(())
}
