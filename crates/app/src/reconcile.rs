//! What `serve` runs beside the API every few minutes: payments that may still complete are
//! asked about (a lost webhook heals without waiting for the next dunning step), and refunds
//! whose answer was lost are asked again under their keys.

use std::time::Duration;

use antaeus_core::Shutdown;
use antaeus_core::error_report::one_line;
use antaeus_core::service::{PaymentEventService, RefundService};

/// Reconciles every `every` until `shutdown`.
pub async fn reconcile_until(
    payments: PaymentEventService,
    refunds: RefundService,
    every: Duration,
    mut shutdown: Shutdown,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shutdown.requested() => return,
        }
        match payments.reconcile(&shutdown).await {
            Ok(report) if report.asked > 0 => log::info!(
                "reconciled {} payments that may still complete: {} settled, {} could not be asked",
                report.asked,
                report.settled,
                report.failed
            ),
            Ok(_) => {}
            Err(err) => log::warn!("reconciling payments failed: {}", one_line(&err)),
        }
        match refunds.resend_due().await {
            Ok(0) => {}
            Ok(n) => log::info!("asked the provider again about {n} refunds whose answer was lost"),
            Err(err) => log::warn!("resending refunds failed: {}", one_line(&err)),
        }
    }
}
