//! The console with JavaScript turned off: every page renders, and forms work as plain HTML.

use fantoccini::Locator;

use crate::browser::JavaScript;
use crate::chromedriver::chromium;
use crate::console::{EXTERNAL_ID, Role, sign_in, start_console};
use crate::pages::{assert_page_shape, sign_in_page, signed_in_pages};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_and_form_works_with_javascript_off() {
    let Some(chromium) = chromium("every_page_and_form_works_with_javascript_off") else {
        return;
    };
    let console = start_console(&[]).await;
    let browser = console.browser(&chromium, JavaScript::Off).await;

    let page = sign_in_page();
    browser.goto(&page.path).await;
    assert_page_shape(&browser, &page).await;
    sign_in(&browser, Role::Operator).await;
    for page in signed_in_pages(&console).await {
        browser.goto(&page.path).await;
        assert_page_shape(&browser, &page).await;
    }

    // The invoice filters: a GET form.
    browser.goto("/console/invoices").await;
    browser
        .by_id("filter-status")
        .await
        .select_by_value("FAILED")
        .await
        .unwrap();
    browser.by_id("apply-filters").await.click().await.unwrap();
    browser
        .wait_for("the filtered invoices", || async {
            let url = browser.client.current_url().await?;
            Ok(url
                .query()
                .is_some_and(|q| q.contains("status=FAILED"))
                .then_some(()))
        })
        .await;
    let rows = browser
        .client
        .find_all(Locator::Css("#invoices tbody tr"))
        .await
        .unwrap();
    assert!(!rows.is_empty(), "FAILED invoices are listed");
    for row in &rows {
        let text = row.text().await.unwrap();
        assert!(text.contains("FAILED"), "only FAILED invoices: {text}");
    }

    // The customer search: a GET form.
    browser.goto("/console/customers").await;
    browser
        .by_id("external-id")
        .await
        .send_keys(EXTERNAL_ID)
        .await
        .unwrap();
    browser.by_id("search").await.click().await.unwrap();
    let customer = format!("/console/customers/{}", console.customer_id);
    browser
        .wait_for("the customer found by external id", || async {
            let links = browser
                .client
                .find_all(Locator::Css(&format!("#customers a[href='{customer}']")))
                .await?;
            Ok((!links.is_empty()).then_some(()))
        })
        .await;
    let rows = browser
        .client
        .find_all(Locator::Css("#customers tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "an external id finds one customer");

    // An action (a POST form with data-confirm): it submits without a confirmation.
    let failed = console.invoices_in("FAILED").await[0];
    browser.goto(&format!("/console/invoices/{failed}")).await;
    browser.by_id("void").await.click().await.unwrap();
    let status = browser
        .wait_for_text("invoice-status", |s| s != "FAILED")
        .await;
    assert_eq!(status, "VOID");
    assert_eq!(console.invoice(failed).await["status"], "VOID");
    assert_eq!(
        browser
            .by_id("flash")
            .await
            .attr("role")
            .await
            .unwrap()
            .as_deref(),
        Some("status")
    );
    browser.close().await;
}
