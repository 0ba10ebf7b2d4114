//! A shutdown signal that long-running work watches.

use tokio::sync::watch;

/// Triggers a [`Shutdown`]; dropping it does not trigger it.
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

/// Tells work to stop; cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// A new trigger and its signal.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger(tx), Shutdown(rx))
    }

    /// A signal that never fires.
    pub fn never() -> Shutdown {
        let (tx, rx) = watch::channel(false);
        // Keep the channel open forever so `wait` pends instead of returning.
        std::mem::forget(tx);
        Shutdown(rx)
    }

    /// Whether shutdown was asked for.
    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once shutdown is asked for.
    pub async fn requested(&mut self) {
        // An error means the trigger is gone without firing: never complete.
        if self.0.wait_for(|stop| *stop).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

impl ShutdownTrigger {
    /// Asks every holder of the signal to stop.
    pub fn trigger(&self) {
        self.0.send_replace(true);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn fires_for_every_clone() {
        let (trigger, signal) = Shutdown::new();
        let mut a = signal.clone();
        let waiter = tokio::spawn(async move { a.requested().await });
        assert!(!signal.is_requested());
        trigger.trigger();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        assert!(signal.is_requested());
    }

    #[tokio::test(start_paused = true)]
    async fn never_does_not_fire() {
        let mut s = Shutdown::never();
        let waited = tokio::time::timeout(Duration::from_secs(3600), s.requested()).await;
        assert!(waited.is_err());
    }
}
