//! A viewer (signed in with the read token) sees the console but no actions, and a forged
//! action is refused.

use crate::browser::JavaScript;
use crate::chromedriver::chromium;
use crate::console::{Role, has_sign_out, sign_in, start_console};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_no_actions_and_a_forged_one_is_refused() {
    let Some(chromium) = chromium("a_viewer_sees_no_actions_and_a_forged_one_is_refused") else {
        return;
    };
    let console = start_console(&[]).await;
    let browser = console.browser(&chromium, JavaScript::On).await;
    sign_in(&browser, Role::Viewer).await;

    browser.goto("/console").await;
    assert!(
        browser.has("invoice-totals").await,
        "a viewer sees the overview"
    );
    assert!(!browser.has("start-run").await, "but cannot start a run");
    let failed = console.invoices_in("FAILED").await[0];
    browser.goto(&format!("/console/invoices/{failed}")).await;
    assert_eq!(browser.text("invoice-status").await, "FAILED");
    assert!(
        !browser.has("retry-now").await && !browser.has("void").await,
        "a viewer sees no Retry now or Void"
    );

    // The POST a viewer's page does not offer, sent from the page with its session cookie.
    let status = browser
        .js(&format!(
            "return fetch('/console/invoices/{failed}/void', {{method: 'POST', \
             headers: {{'content-type': 'application/x-www-form-urlencoded'}}, \
             body: 'csrf=forged'}}).then((r) => r.status);"
        ))
        .await;
    assert_eq!(status, 403, "a viewer's forged Void is refused");
    assert_eq!(
        console.invoice(failed).await["status"],
        "FAILED",
        "and changes nothing"
    );

    // Signing out ends the session: the console is no longer shown.
    browser
        .wait_for_css("form[action='/console/sign-out'] button")
        .await
        .click()
        .await
        .unwrap();
    browser
        .wait_for("the session to end", || async {
            Ok((!has_sign_out(&browser).await).then_some(()))
        })
        .await;
    browser.goto("/console/invoices").await;
    assert!(
        !browser.has("invoices").await && !has_sign_out(&browser).await,
        "signed out, the invoices are not shown"
    );
    browser.close().await;
}
