//! The operator console over HTTP: sessions, roles, CSRF, security headers, and actions that
//! change what the API and storage say.

use antaeus_core::store::InvoiceStore;
use antaeus_models::{Currency, InvoiceStatus};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

use crate::api_tests;
use crate::console_client::{Browser, READ_TOKEN};
use crate::helpers::{API_TOKEN, TestApp, spawn_app_with};

api_tests!(
    with_a_token_every_console_page_needs_a_session_and_carries_the_security_headers,
    retry_and_void_through_the_console_change_the_invoice,
    a_run_started_from_the_console_says_so_and_is_the_api_run_of_the_same_key,
    an_invoice_without_a_due_date_shows_a_dash,
);

/// Invoices stored without a due date (the demo data of earlier versions, the benchmark's)
/// carry the zero time: the console shows "—", not 1970-01-01.
async fn an_invoice_without_a_due_date_shows_a_dash(app: TestApp) {
    let (_, invoice) = app
        .add_invoice(Currency::EUR, 500, InvoiceStatus::Pending)
        .await;
    let operator = Browser::sign_in(&app, API_TOKEN).await;
    let page = operator
        .page(&format!("/console/invoices/{}", invoice.id))
        .await;
    assert!(page.contains("<dt>Due</dt><dd>—</dd>"), "{page}");
    let list = operator
        .page(&format!(
            "/console/invoices?customer={}",
            invoice.customer_id
        ))
        .await;
    assert!(!list.contains("1970"), "{list}");
    assert!(!page.contains("1970"), "{page}");
}

/// Every console page, with a PENDING invoice, customer 1 and a run to show.
const PAGES: [&str; 8] = [
    "/console",
    "/console/runs",
    "/console/runs/1",
    "/console/invoices",
    "/console/invoices?status=PAID&currency=EUR&due=overdue",
    "/console/invoices/1",
    "/console/customers",
    "/console/customers/1",
];

fn assert_secure(headers: &HeaderMap, what: &str) {
    assert_eq!(
        headers["content-security-policy"],
        antaeus_rest::CSP,
        "CSP of {what}"
    );
    assert!(!antaeus_rest::CSP.contains("unsafe-inline"));
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["referrer-policy"], "same-origin", "{what}");
    assert_eq!(headers["cache-control"], "no-store", "{what}");
}

async fn with_a_token_every_console_page_needs_a_session_and_carries_the_security_headers(
    app: TestApp,
) {
    app.bill().await;
    let stranger = Browser::new(&app);
    for path in PAGES {
        let response = stranger.get(path).await;
        assert_eq!(response.status(), 303, "{path} without a session");
        let back = match path {
            "/console" => "/console/sign-in".to_owned(),
            _ => format!(
                "/console/sign-in?{}",
                serde_urlencoded::to_string([("next", path)]).unwrap()
            ),
        };
        assert_eq!(response.headers()[LOCATION], back.as_str(), "{path}");
        assert_secure(response.headers(), path);
    }
    for (asset, kind) in [
        ("/console/assets/console.css", "text/css"),
        ("/console/assets/console.js", "text/javascript"),
    ] {
        let response = stranger.get(asset).await;
        assert_eq!(response.status(), 200, "{asset} needs no session");
        assert_secure(response.headers(), asset);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
    }
    let forged = Browser {
        app: &app,
        cookie: Some("antaeus_console=act.99999999999.00.00".into()),
    };
    assert_eq!(
        forged.get("/console").await.status(),
        303,
        "a forged cookie"
    );

    let wrong = stranger
        .post("/console/sign-in", &[("token", "nope")])
        .await;
    assert_eq!(wrong.status(), 401);
    assert_secure(wrong.headers(), "a refused sign-in");
    let html = wrong.text().await.unwrap();
    assert!(html.contains(r#"id="flash" role="alert""#), "{html}");

    let operator = Browser::sign_in(&app, API_TOKEN).await;
    for path in PAGES {
        let response = operator.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_secure(response.headers(), path);
        let html = response.text().await.unwrap();
        for landmark in [
            r#"<main id="main">"#,
            "<h1>",
            r#"href="/console/invoices""#,
            "Sign out",
        ] {
            assert!(html.contains(landmark), "{landmark} in {path}");
        }
    }
    let overview = operator.page("/console").await;
    for id in [
        "invoice-totals",
        "collected",
        "recent-runs",
        "failure-reasons",
        "decline-codes",
        "provider-health",
        "outbox",
        "run-key",
        "scope-all",
        "scope-retries",
        "start-run",
    ] {
        assert!(overview.contains(&format!(r#"id="{id}""#)), "#{id}");
    }
    let run = operator.page("/console/runs/1").await;
    assert!(
        run.contains(r#"<span id="run-status">COMPLETED</span>"#),
        "{run}"
    );
    assert!(run.contains(r#"id="run-chart" role="img""#));
    let missing = operator.get("/console/invoices/999999").await;
    assert_eq!(missing.status(), 404);
    assert_secure(missing.headers(), "a missing invoice");

    let csrf = operator.csrf("/console").await;
    let out = operator.post("/console/sign-out", &[("csrf", &csrf)]).await;
    assert_eq!(out.status(), 303);
    assert!(
        out.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

/// A viewer (read token) sees no action and cannot act; an operator's POST needs its own
/// session's CSRF token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_cannot_act_and_a_post_without_the_sessions_csrf_token_is_forbidden() {
    let app = spawn_app_with(
        antaeus_data::Backend::Sqlite,
        &[("ANTAEUS_READ_TOKEN", READ_TOKEN)],
    )
    .await
    .unwrap();
    let (_, invoice) = app
        .add_invoice(Currency::EUR, 1_000, InvoiceStatus::Pending)
        .await;
    let page = format!("/console/invoices/{}", invoice.id);
    let void = format!("{page}/void");

    let viewer = Browser::sign_in(&app, READ_TOKEN).await;
    let html = viewer.page(&page).await;
    assert!(!html.contains(r#"id="void""#) && !html.contains(r#"id="retry-now""#));
    assert!(!viewer.page("/console").await.contains(r#"id="start-run""#));
    let viewer_csrf = viewer.csrf(&page).await;
    let refused = viewer.post(&void, &[("csrf", &viewer_csrf)]).await;
    assert_eq!(refused.status(), 403, "a viewer cannot void");
    assert_secure(refused.headers(), "a refused action");

    let operator = Browser::sign_in(&app, API_TOKEN).await;
    assert!(operator.page(&page).await.contains(r#"id="void""#));
    assert_eq!(
        operator.post(&void, &[]).await.status(),
        403,
        "no CSRF token"
    );
    assert_eq!(
        operator
            .post(&void, &[("csrf", &viewer_csrf)])
            .await
            .status(),
        403,
        "another session's CSRF token"
    );
    let anonymous = Browser::new(&app);
    assert_eq!(
        anonymous
            .post(&void, &[("csrf", &viewer_csrf)])
            .await
            .status(),
        403
    );
    let still = app.db.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(still.status, InvoiceStatus::Pending, "nothing was voided");

    let csrf = operator.csrf(&page).await;
    let done = operator.post(&void, &[("csrf", &csrf)]).await;
    assert_eq!(done.status(), 303);
    let voided = app.db.db.fetch_invoice(invoice.id).await.unwrap().unwrap();
    assert_eq!(voided.status, InvoiceStatus::Void);
}

/// Without tokens the console reads as the API does (open) and every action is refused with
/// a note on how to enable it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tokens_reads_are_open_and_actions_say_how_to_enable_them() {
    let app = spawn_app_with(antaeus_data::Backend::Sqlite, &[("ANTAEUS_API_TOKEN", "")])
        .await
        .unwrap();
    let browser = Browser::new(&app);
    let overview = browser.page("/console").await;
    assert!(overview.contains(r#"id="actions-disabled""#), "{overview}");
    assert!(overview.contains("ANTAEUS_API_TOKEN"));
    assert!(!overview.contains(r#"id="start-run""#) && !overview.contains("Sign out"));
    let invoice = browser.page("/console/invoices/1").await;
    assert!(!invoice.contains(r#"id="void""#));
    let sign_in = browser.get("/console/sign-in").await;
    assert_eq!(sign_in.status(), 303, "nothing to sign in to");
    let refused = browser
        .post("/console/invoices/1/void", &[("csrf", "x")])
        .await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("ANTAEUS_API_TOKEN"));
    let refused = browser
        .post("/console/runs", &[("key", "k-1"), ("scope", "all")])
        .await;
    assert_eq!(refused.status(), 403);
    let invoice = app
        .db
        .db
        .fetch_invoice(antaeus_models::InvoiceId::new(1).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(invoice.status, InvoiceStatus::Void);

    // `/` sends browsers to the console and answers API clients as before.
    let root = browser.get("/").await;
    assert_eq!(root.status(), 303);
    assert_eq!(root.headers()[LOCATION], "/console");
    let api = app.get("/").await;
    assert_eq!(api.status(), 404);
    let posted = app
        .client
        .post(format!("{}/", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 404, "other methods too");
}

async fn retry_and_void_through_the_console_change_the_invoice(app: TestApp) {
    let (_, failed) = app
        .add_invoice(Currency::EUR, 2_500, InvoiceStatus::Pending)
        .await;
    app.db
        .execute(&format!(
            "UPDATE invoices SET status = 'FAILED', failure_reason = 'retries_exhausted' WHERE id = {}",
            failed.id
        ))
        .await
        .unwrap();
    let (_, pending) = app
        .add_invoice(Currency::USD, 900, InvoiceStatus::Pending)
        .await;
    let operator = Browser::sign_in(&app, API_TOKEN).await;

    let listed = operator
        .page(&format!(
            "/console/invoices?status=FAILED&currency=EUR&customer={}",
            failed.customer_id
        ))
        .await;
    assert!(listed.contains(&format!(r#"href="/console/invoices/{}""#, failed.id)));

    let page = format!("/console/invoices/{}", failed.id);
    let html = operator.page(&page).await;
    assert!(
        html.contains(r#"<dd id="invoice-status">FAILED</dd>"#),
        "{html}"
    );
    assert!(html.contains(r#"<dd id="invoice-next-attempt">—</dd>"#));
    let csrf = operator.csrf(&page).await;
    let retried = operator
        .post(&format!("{page}/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(retried.status(), 303);
    let back = retried.headers()[LOCATION].to_str().unwrap().to_owned();
    assert_eq!(back, format!("{page}?flash=retried"));
    let html = operator.page(&back).await;
    assert!(html.contains(r#"id="flash" role="status""#));
    assert!(html.contains(r#"<dd id="invoice-status">PENDING</dd>"#));
    let json = app
        .get_json(&format!("/rest/v1/invoices/{}", failed.id))
        .await;
    assert_eq!(json["status"], "PENDING");
    assert!(json["nextAttemptAt"].is_string(), "due now: {json}");

    let page = format!("/console/invoices/{}", pending.id);
    let csrf = operator.csrf(&page).await;
    let voided = operator
        .post(&format!("{page}/void"), &[("csrf", &csrf)])
        .await;
    assert_eq!(voided.status(), 303);
    let stored = app.db.db.fetch_invoice(pending.id).await.unwrap().unwrap();
    assert_eq!(stored.status, InvoiceStatus::Void);
    let html = operator.page(&page).await;
    assert!(html.contains("invoice.voided"), "the event is listed");
    // Void again: nothing applies any more, and a forged retry is refused by the service.
    assert!(!html.contains(r#"id="void""#) && !html.contains(r#"id="retry-now""#));
    let again = operator
        .post(&format!("{page}/retry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status(), 303);
    let html = operator
        .page(again.headers()[LOCATION].to_str().unwrap())
        .await;
    assert!(
        html.contains(r#"id="flash" role="alert" class="error""#),
        "{html}"
    );
}

async fn a_run_started_from_the_console_says_so_and_is_the_api_run_of_the_same_key(app: TestApp) {
    let operator = Browser::sign_in(&app, API_TOKEN).await;
    let csrf = operator.csrf("/console").await;
    let form = [
        ("csrf", csrf.as_str()),
        ("key", "console-key-1"),
        ("scope", "all"),
    ];
    let started = operator.post("/console/runs", &form).await;
    assert_eq!(started.status(), 303);
    let location = started.headers()[LOCATION].to_str().unwrap().to_owned();
    assert!(location.ends_with("?flash=run-started"), "{location}");
    // The page it lands on says so, and names the run.
    let landed = operator.page(&location).await;
    assert!(
        landed.contains(r#"id="flash""#) && landed.contains("Run started"),
        "{landed}"
    );
    let id: i64 = location
        .trim_start_matches("/console/runs/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let again = operator.post("/console/runs", &form).await;
    assert_eq!(
        again.headers()[LOCATION].to_str().unwrap(),
        format!("/console/runs/{id}?flash=run-existing")
    );
    let landed = operator
        .page(&format!("/console/runs/{id}?flash=run-existing"))
        .await;
    assert!(landed.contains("nothing new was started"), "{landed}");
    let api = app
        .post(
            "/rest/v1/billing/runs",
            "",
            &[("Idempotency-Key", "console-key-1")],
        )
        .await;
    assert_eq!(api.status(), 200, "the API names the same run");
    let api: serde_json::Value = api.json().await.unwrap();
    assert_eq!(api["id"], id);
    // The run says who started it: the console, not the API.
    assert_eq!(api["trigger"], "console", "{api}");
    let other_scope = [
        ("csrf", csrf.as_str()),
        ("key", "console-key-1"),
        ("scope", "retries"),
    ];
    let refused = operator.post("/console/runs", &other_scope).await;
    assert_eq!(
        refused.headers()[LOCATION].to_str().unwrap(),
        "/console?flash=key-reused"
    );
    app.wait_for_run(id).await;
    let page = operator.page(&format!("/console/runs/{id}")).await;
    assert!(page.contains(r#"<span id="run-status">COMPLETED</span>"#));
    assert!(
        page.contains("<dt>Started by</dt><dd>console</dd>"),
        "the run page names the console: {page}"
    );
    assert!(
        !page.contains(r#"http-equiv="refresh""#),
        "a finished run stays put"
    );
}
