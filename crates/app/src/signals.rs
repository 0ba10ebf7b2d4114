//! Turning SIGINT and SIGTERM into a graceful shutdown.

use antaeus_core::{Shutdown, ShutdownTrigger};

/// A shutdown signal that fires on the first SIGINT or SIGTERM.
pub fn shutdown_on_signals() -> Shutdown {
    let (trigger, shutdown) = Shutdown::new();
    tokio::spawn(wait_and_trigger(trigger));
    shutdown
}

async fn wait_and_trigger(trigger: ShutdownTrigger) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(stream) => stream,
                Err(err) => {
                    log::warn!("cannot listen for SIGTERM: {err}");
                    let _ = interrupt.await;
                    trigger.trigger();
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => log::info!("SIGINT received: shutting down gracefully"),
            _ = terminate.recv() => log::info!("SIGTERM received: shutting down gracefully"),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
        log::info!("interrupt received: shutting down gracefully");
    }
    trigger.trigger();
}
