//! Accessibility basics on every page, checked in the browser: labels, table headers, button
//! names, and the main controls reached with Tab.

use crate::audit::AUDIT;
use crate::browser::{Browser, JavaScript};
use crate::chromedriver::chromium;
use crate::console::{Role, sign_in, start_console};
use crate::pages::{Page, sign_in_page, signed_in_pages};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_has_labels_headers_named_buttons_and_tab_reaches_its_actions() {
    let Some(chromium) =
        chromium("every_page_has_labels_headers_named_buttons_and_tab_reaches_its_actions")
    else {
        return;
    };
    let console = start_console(&[]).await;
    let browser = console.browser(&chromium, JavaScript::On).await;
    let mut problems = Vec::new();
    problems.extend(audit(&browser, &sign_in_page()).await);
    sign_in(&browser, Role::Operator).await;
    for page in signed_in_pages(&console).await {
        problems.extend(audit(&browser, &page).await);
    }
    assert!(
        problems.is_empty(),
        "accessibility problems:\n{}",
        problems.join("\n")
    );
    browser.close().await;
}

/// Opens `page`, runs [`AUDIT`] in it and tabs to each of its main actions; returns the
/// problems, each prefixed with the page's path.
async fn audit(browser: &Browser, page: &Page) -> Vec<String> {
    browser.goto(&page.path).await;
    let found = browser.js(AUDIT).await;
    let mut problems: Vec<String> = found
        .as_array()
        .expect("the audit answers a list")
        .iter()
        .map(|p| format!("{}: {}", page.path, p.as_str().unwrap_or_default()))
        .collect();
    // Each tab_to starts from the top of the page, so the order of actions does not matter.
    for id in page.actions {
        if !browser.has(id).await {
            problems.push(format!("{}: #{id} is missing", page.path));
            continue;
        }
        browser.tab_to(id).await;
    }
    problems
}
