//! The console with JavaScript turned off: every page renders, and forms work as plain HTML.

use crate::browser::JavaScript;
use crate::chromedriver::chromium;
use crate::console::{EXTERNAL_ID, Role, sign_in, start_console};
use crate::pages::{assert_page_shape, filter_invoices_by_status, sign_in_page, signed_in_pages};

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

    // `/` in a browser leads to the console.
    browser.goto("/").await;
    browser.wait_for_path("/console").await;

    // The invoice filters (a GET form), and their paging keeps the filter.
    filter_invoices_by_status(&browser, "FAILED").await;
    let first_paid = filter_invoices_by_status(&browser, "PAID").await;
    let first_paid = first_paid[0].text().await.unwrap();
    let next = browser.by_id("next-page").await;
    assert_eq!(next.attr("rel").await.unwrap().as_deref(), Some("next"));
    next.click().await.unwrap();
    browser.wait_for_query("after=").await;
    let query = browser.path().await;
    assert!(
        query.contains("status=PAID"),
        "the next page keeps the filter: {query}"
    );
    let rows = browser.rows("invoices").await;
    assert!(
        !rows.is_empty(),
        "900 PAID invoices fill more than one page"
    );
    for row in &rows {
        let text = row.text().await.unwrap();
        assert!(text.contains("PAID"), "page 2 of PAID: {text}");
        assert_ne!(text, first_paid, "page 2 is not page 1 again");
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
        .wait_for_css(&format!("#customers a[href='{customer}']"))
        .await;
    assert_eq!(
        browser.rows("customers").await.len(),
        1,
        "an external id finds one customer"
    );

    // An action (a POST form with data-confirm): it submits without a confirmation.
    let failed = console.invoices_in("FAILED").await[0];
    browser.goto(&format!("/console/invoices/{failed}")).await;
    let form = browser
        .wait_for_css(&format!("form[action='/console/invoices/{failed}/void']"))
        .await;
    assert!(
        form.attr("data-confirm").await.unwrap().is_some(),
        "Void asks first where scripts run"
    );
    browser.by_id("void").await.click().await.unwrap();
    assert_eq!(browser.accept_dialog().await, None, "but not here");
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
