//! `serve` on an empty database: the original data set is seeded only with the simulated
//! provider (a real provider would charge invented invoices), and never when
//! `ANTAEUS_SEED_DEMO_DATA=off`.

use antaeus_data::Backend;

use crate::helpers::{INVOICES, spawn_app_with};

/// Nothing listens here: these apps never charge (their databases stay empty).
const NOWHERE: &str = "http://127.0.0.1:9";

fn backends() -> [Backend; 2] {
    [Backend::Sqlite, Backend::Postgres]
}

/// How many invoices `GET /rest/v1/invoices` lists on a fresh database of `backend` served with
/// `overrides`; `None` when the backend is not configured for tests.
async fn invoices_after_start(
    backend: Backend,
    overrides: &[(&'static str, &str)],
) -> Option<usize> {
    let app = spawn_app_with(backend, overrides).await?;
    let listed = app.get_json(INVOICES).await;
    Some(listed.as_array().expect("a JSON array").len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_database_served_with_the_http_provider_stays_empty() {
    for backend in backends() {
        let http = [
            ("ANTAEUS_PAYMENT_PROVIDER", "http"),
            ("ANTAEUS_PAYMENT_PROVIDER_URL", NOWHERE),
        ];
        if let Some(invoices) = invoices_after_start(backend, &http).await {
            assert_eq!(invoices, 0, "{backend:?}: invoices listed");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_database_served_with_stripe_stays_empty() {
    let stripe = [
        ("ANTAEUS_PAYMENT_PROVIDER", "stripe"),
        ("ANTAEUS_STRIPE_SECRET_KEY", "sk_test_seeding"),
        ("ANTAEUS_STRIPE_API_BASE", NOWHERE),
    ];
    let invoices = invoices_after_start(Backend::Sqlite, &stripe)
        .await
        .unwrap();
    assert_eq!(invoices, 0, "invoices listed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeding_turned_off_leaves_an_empty_database_empty_with_the_simulated_provider() {
    for backend in backends() {
        let off = [
            ("ANTAEUS_PAYMENT_PROVIDER", "simulated"),
            ("ANTAEUS_SEED_DEMO_DATA", "off"),
        ];
        if let Some(invoices) = invoices_after_start(backend, &off).await {
            assert_eq!(invoices, 0, "{backend:?}: invoices listed");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_an_empty_database_is_seeded_with_the_original_data_set() {
    for backend in backends() {
        let Some(app) = spawn_app_with(backend, &[]).await else {
            continue;
        };
        let customers = app.get_json("/rest/v1/customers?limit=1000").await;
        assert_eq!(customers.as_array().map(Vec::len), Some(100), "{backend:?}");
        assert!(!app.invoices_of(1).await.is_empty(), "{backend:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_invoices_are_due_when_they_were_made_not_in_1970() {
    for backend in backends() {
        let before = chrono::Utc::now() - chrono::TimeDelta::seconds(5);
        let Some(app) = spawn_app_with(backend, &[]).await else {
            continue;
        };
        let after = chrono::Utc::now() + chrono::TimeDelta::seconds(5);
        let listed = app.get_json(&format!("{INVOICES}?limit=20")).await;
        for invoice in listed.as_array().unwrap() {
            let due: chrono::DateTime<chrono::Utc> =
                invoice["dueAt"].as_str().unwrap().parse().unwrap();
            assert!(before <= due && due <= after, "{backend:?}: {invoice}");
        }
    }
}
