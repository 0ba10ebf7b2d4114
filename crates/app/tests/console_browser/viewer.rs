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

    // The POST a viewer's page does not offer, forged into the page and sent with its cookie.
    browser
        .js(&format!(
            "const form = document.createElement('form'); form.method = 'post'; \
             form.action = '/console/invoices/{failed}/void'; \
             const csrf = document.createElement('input'); csrf.type = 'hidden'; \
             csrf.name = 'csrf'; csrf.value = 'forged'; form.appendChild(csrf); \
             document.body.appendChild(form); form.submit();"
        ))
        .await;
    let refusal = browser
        .wait_for_text("flash", |text| !text.is_empty())
        .await;
    let h1 = browser.wait_for_css("h1").await.text().await.unwrap();
    assert_eq!(
        h1, "Forbidden",
        "a viewer's forged Void is refused: {refusal}"
    );
    let flash = browser.by_id("flash").await;
    assert_eq!(flash.attr("role").await.unwrap().as_deref(), Some("alert"));
    assert_eq!(
        console.invoice(failed).await["status"],
        "FAILED",
        "and changes nothing"
    );

    // Signing out ends the session: the console is no longer shown.
    browser.goto("/console").await;
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
