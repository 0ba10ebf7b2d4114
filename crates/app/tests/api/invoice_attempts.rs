//! An invoice's provider calls as the attempts API shows them: a decline with the provider's
//! reason, a payment with the provider's reference.

use serde_json::Value;

use crate::helpers::spawn_app_with;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_shows_the_providers_decline_code_and_charge_reference() {
    for (outcomes, field, expected) in [
        ("declined=1", "declineCode", "insufficient_funds"),
        ("charged=1", "providerRef", "sim_1_"),
    ] {
        let app = spawn_app_with(
            antaeus_data::Backend::Sqlite,
            &[("ANTAEUS_SIMULATED_OUTCOMES", outcomes)],
        )
        .await
        .unwrap();
        app.bill().await;
        let attempts: Vec<Value> = app
            .get("/rest/v1/invoices/1/attempts")
            .await
            .json()
            .await
            .unwrap();
        let shown = attempts[0][field].as_str().unwrap_or_default();
        assert!(shown.starts_with(expected), "{outcomes}: {attempts:?}");
    }
}
