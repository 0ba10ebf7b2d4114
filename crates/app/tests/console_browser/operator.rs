//! An operator's errand: sign in, find a FAILED invoice through the filters, read its attempts,
//! retry it with the keyboard, then void it.

use fantoccini::Locator;
use fantoccini::key::Key;

use crate::browser::{Browser, JavaScript};
use crate::chromedriver::chromium;
use crate::console::{Role, has_sign_out, sign_in, start_console};
use crate::pages::filter_invoices_by_status;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_finds_a_failed_invoice_retries_it_by_keyboard_and_voids_it() {
    let Some(chromium) =
        chromium("an_operator_finds_a_failed_invoice_retries_it_by_keyboard_and_voids_it")
    else {
        return;
    };
    let console = start_console(&[]).await;
    let browser = console.browser(&chromium, JavaScript::On).await;

    refuses_a_wrong_token(&browser).await;
    sign_in(&browser, Role::Operator).await;

    let invoice = find_a_failed_invoice(&browser).await;
    assert_eq!(console.invoice(invoice).await["status"], "FAILED");
    assert_eq!(browser.text("invoice-status").await, "FAILED");
    assert!(
        !browser.rows("attempts").await.is_empty(),
        "invoice {invoice} failed in a run, so #attempts lists that attempt"
    );
    let attempts_text = browser.text("attempts").await;
    // A key is `antaeus-<deployment>-<invoice>-<seq>`.
    let shows_key = attempts_text.split_whitespace().any(|word| {
        word.strip_prefix("antaeus-")
            .and_then(|rest| rest.split_once('-'))
            .is_some_and(|(deployment, rest)| {
                deployment.len() == 12 && rest.starts_with(&format!("{invoice}-"))
            })
    });
    assert!(
        shows_key,
        "#attempts shows the idempotency key of the attempt: {attempts_text}"
    );

    // Retry with the keyboard only: Tab to the button, Enter to press it, and the question
    // console.js asks for a form with data-confirm.
    let question = browser.confirmation_of("retry-now").await;
    browser.tab_to("retry-now").await;
    browser.press(Key::Enter).await;
    if let Some(question) = question {
        assert_eq!(browser.accept_expected_dialog().await, question);
    }
    let status = browser
        .wait_for_text("invoice-status", |s| s != "FAILED")
        .await;
    assert_eq!(status, "PENDING", "a retried invoice is due again");
    let next = browser.text("invoice-next-attempt").await;
    assert!(
        is_due_now(&next),
        "a retried invoice is due now, not later: #invoice-next-attempt is {next:?}"
    );
    let flash = browser.by_id("flash").await;
    assert_eq!(flash.attr("role").await.unwrap().as_deref(), Some("status"));
    assert!(
        !flash.text().await.unwrap().trim().is_empty(),
        "#flash says what happened"
    );
    let api = console.invoice(invoice).await;
    let next_api = api["nextAttemptAt"].as_str().unwrap_or("—");
    assert!(
        api["status"] == "PENDING" && is_due_now(next_api),
        "the API agrees the invoice is due now: {api}"
    );
    let landed = browser.path().await;
    assert!(
        landed.split('?').next() == Some(&format!("/console/invoices/{invoice}")),
        "the action lands back on the invoice page, not {landed}"
    );

    // Void it (now PENDING) with the mouse, accepting the confirmation if scripts ask for one.
    browser
        .by_id("void")
        .await
        .click()
        .await
        .expect("press Void");
    let status = browser
        .wait_for_text("invoice-status", |s| s != "PENDING")
        .await;
    assert_eq!(status, "VOID");
    assert_eq!(console.invoice(invoice).await["status"], "VOID");
    assert!(browser.has("flash").await, "#flash says it was voided");
    assert!(
        !browser.has("retry-now").await && !browser.has("void").await,
        "a VOID invoice offers neither Retry now nor Void"
    );
    browser.close().await;
}

/// A wrong token re-renders the sign-in form with an alert and no session.
async fn refuses_a_wrong_token(browser: &Browser) {
    browser.goto("/console/sign-in").await;
    browser
        .by_id("token")
        .await
        .send_keys("not-the-token-0123456789")
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css(
            "form[action='/console/sign-in'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let flash = browser
        .wait_for("the sign-in error", || async {
            let found = browser.client.find_all(Locator::Id("flash")).await?;
            Ok(found.into_iter().next())
        })
        .await;
    assert_eq!(flash.attr("role").await.unwrap().as_deref(), Some("alert"));
    assert!(browser.has("token").await, "the form is shown again");
    assert!(
        !has_sign_out(browser).await,
        "a wrong token signs nobody in"
    );
}

/// Filters the invoices by status FAILED and opens the first; returns its id.
async fn find_a_failed_invoice(browser: &Browser) -> i64 {
    let rows = filter_invoices_by_status(browser, "FAILED").await;
    let link = rows[0]
        .find(Locator::Css("a[href^='/console/invoices/']"))
        .await
        .expect("the row's id links to the invoice");
    let href = link.attr("href").await.unwrap().unwrap();
    let id: i64 = href
        .trim_start_matches("/console/invoices/")
        .parse()
        .unwrap_or_else(|_| panic!("an invoice link: {href}"));
    link.click().await.unwrap();
    browser
        .wait_for_path(&format!("/console/invoices/{id}"))
        .await;
    id
}

/// Whether a next attempt (a page's cell or the API's field) is now: a dash or "now", or a time
/// (`2026-11-30 14:03:05 UTC` or RFC 3339) not in the future.
fn is_due_now(text: &str) -> bool {
    if text == "—" || text.to_lowercase().contains("now") {
        return true;
    }
    let at = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S UTC")
        .map(|at| at.and_utc())
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(text).map(|at| at.to_utc()));
    at.is_ok_and(|at| at <= chrono::Utc::now() + chrono::TimeDelta::seconds(2))
}
