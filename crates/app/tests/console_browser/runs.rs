//! Starting a billing run from the overview and watching it finish on its own page.

use crate::browser::JavaScript;
use crate::chromedriver::chromium;
use crate::console::{Role, sign_in, start_unbilled_console};

/// The meta refresh of a page that reloads itself.
const REFRESH: &str = "meta[http-equiv='refresh']";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_started_from_the_overview_is_watched_until_it_completes() {
    let Some(chromium) = chromium("a_run_started_from_the_overview_is_watched_until_it_completes")
    else {
        return;
    };
    // Slow enough that the run page is first seen RUNNING: 101 due invoices, four at a time,
    // 200 ms a call, about 5 s in all (a slow machine only makes it longer).
    let console = start_unbilled_console(&[
        ("ANTAEUS_CONCURRENCY", "4"),
        ("ANTAEUS_SIMULATED_LATENCY_MS", "200"),
        ("ANTAEUS_SIMULATED_JITTER_MS", "0"),
    ])
    .await;
    let browser = console.browser(&chromium, JavaScript::On).await;
    sign_in(&browser, Role::Operator).await;

    browser.goto("/console").await;
    let key = browser.by_id("run-key").await;
    let suggested = key.prop("value").await.unwrap().unwrap_or_default();
    assert!(
        !suggested.is_empty(),
        "the overview suggests a fresh idempotency key"
    );
    key.clear().await.unwrap();
    key.send_keys("browser-run-1").await.unwrap();
    browser.by_id("scope-all").await.click().await.unwrap();
    assert!(
        browser
            .by_id("scope-all")
            .await
            .is_selected()
            .await
            .unwrap()
    );
    browser.by_id("start-run").await.click().await.unwrap();

    let path = browser.wait_for_path("/console/runs/").await;
    let run_id: i64 = path
        .trim_start_matches("/console/runs/")
        .parse()
        .unwrap_or_else(|_| panic!("a run page: {path}"));
    let run = console.run(run_id).await;
    assert_eq!(run["idempotencyKey"], "browser-run-1", "{run}");

    let first = browser.text("run-status").await;
    assert_eq!(first, "RUNNING", "the run is seen while it charges");
    assert_eq!(
        browser.all(REFRESH).await.len(),
        1,
        "a RUNNING run's page refreshes itself"
    );

    // No navigation from here: the page's own refresh must bring the end.
    let last = browser
        .wait_for_text("run-status", |s| s != "RUNNING")
        .await;
    assert_eq!(last, "COMPLETED");
    assert_eq!(console.run(run_id).await["status"], "COMPLETED");
    assert!(
        browser.all(REFRESH).await.is_empty(),
        "a finished run's page stops refreshing"
    );
    assert!(
        browser.has("run-chart").await,
        "the run page draws its chart"
    );

    browser.goto("/console/runs").await;
    let links = browser
        .all(&format!("#runs a[href='/console/runs/{run_id}']"))
        .await;
    assert!(!links.is_empty(), "the runs list links to the new run");
    browser.close().await;
}
