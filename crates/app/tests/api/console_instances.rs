//! Console sessions behind a load balancer: several instances on one database. A session
//! signed in on one instance works on another that shares `ANTAEUS_CONSOLE_SECRET` (and acts
//! there with its CSRF token), not on one without it, and not once its token is removed.

use antaeus_core::store::InvoiceStore;
use antaeus_data::Backend;
use antaeus_data::testing::TestDatabase;
use antaeus_models::{Currency, InvoiceStatus};

use crate::console_client::{Browser, location};
use crate::helpers::{API_TOKEN, TestApp, spawn_app_on};

/// The console secret the instances share.
const SECRET: &str = "console-secret-shared-by-instances-0123";
/// A token the first instance still accepts and the others no longer do.
const RETIRED: &str = "test-api-token-retired-9876543210";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_signed_in_on_one_instance_works_on_another_sharing_the_secret() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(db) = TestDatabase::new(backend).await else {
            continue;
        };
        let rotating = format!("{API_TOKEN},{RETIRED}");
        let a = spawn_app_on(
            db,
            &[
                ("ANTAEUS_CONSOLE_SECRET", SECRET),
                ("ANTAEUS_API_TOKEN", &rotating),
            ],
        )
        .await;
        let b = spawn_app_on(
            a.db.another_handle().await,
            &[("ANTAEUS_CONSOLE_SECRET", SECRET)],
        )
        .await;
        let alone = spawn_app_on(a.db.another_handle().await, &[]).await;
        sessions_span_instances(&a, &b, &alone).await;
    }
}

async fn sessions_span_instances(a: &TestApp, b: &TestApp, alone: &TestApp) {
    let (_, invoice) = a
        .add_invoice(Currency::EUR, 1_000, InvoiceStatus::Pending)
        .await;
    let page = format!("/console/invoices/{}", invoice.id);

    let on_a = Browser::sign_in(a, API_TOKEN).await;
    let csrf = on_a.csrf(&page).await;
    let on_b = Browser {
        app: b,
        cookie: on_a.cookie.clone(),
    };
    assert!(
        on_b.page(&page).await.contains(r#"id="void""#),
        "B knows A's session"
    );
    let voided = on_b.post(&format!("{page}/void"), &[("csrf", &csrf)]).await;
    assert_eq!(voided.status(), 303, "B takes A's CSRF token");
    let invoice = b.db.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(invoice.status, InvoiceStatus::Void);

    let elsewhere = Browser {
        app: alone,
        cookie: on_a.cookie.clone(),
    };
    assert_signed_out(&elsewhere, "an instance without the shared secret").await;

    let retired = Browser::sign_in(a, RETIRED).await;
    retired.page("/console").await;
    let retired_on_b = Browser {
        app: b,
        cookie: retired.cookie.clone(),
    };
    assert_signed_out(&retired_on_b, "an instance where the token was removed").await;
}

/// Asserts that `browser`'s cookie is no session where it is.
async fn assert_signed_out(browser: &Browser<'_>, what: &str) {
    let response = browser.get("/console").await;
    assert_eq!(response.status(), 303, "{what}");
    assert!(
        location(&response).starts_with("/console/sign-in"),
        "{what}"
    );
}
