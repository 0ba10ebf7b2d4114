//! The operator console's invoices charged more than once: counted on the overview, linked to
//! the list of them, listed by the `charged_twice` filter in keyset pages that keep it, and a
//! malformed filter refused.

use antaeus_core::store::InvoiceStore;
use antaeus_models::{Currency, InvoiceFilter, InvoiceId, InvoiceStatus, PageLimit, PageRequest};

use crate::api_tests;
use crate::console_client::Browser;
use crate::helpers::{API_TOKEN, TestApp};

api_tests!(
    invoices_charged_twice_are_counted_and_listed_in_pages_that_keep_the_filter,
    a_charged_twice_filter_other_than_1_is_refused,
);

/// Every invoice id linked from an invoices table in `html`, in order.
fn listed(html: &str) -> Vec<InvoiceId> {
    const LINK: &str = r#"href="/console/invoices/"#;
    html.split(LINK)
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

/// The next page's link in `html`, unescaped, when there is one.
fn next_page(html: &str) -> Option<String> {
    let tag = html.split(r#"id="next-page""#).nth(1)?;
    let href = tag.split(r#"href=""#).nth(1)?.split('"').next()?;
    Some(href.replace("&amp;", "&"))
}

async fn invoices_charged_twice_are_counted_and_listed_in_pages_that_keep_the_filter(app: TestApp) {
    let seeded = app
        .db
        .db
        .list_invoices(
            InvoiceFilter::default(),
            PageRequest {
                after: None,
                limit: PageLimit::new(1_000).unwrap(),
            },
        )
        .await
        .unwrap();
    // More than a page (50 rows) of them, spread among the seeded invoices.
    let mut twice: Vec<InvoiceId> = seeded.iter().step_by(7).take(60).map(|i| i.id).collect();
    assert_eq!(twice.len(), 60, "the seed has enough invoices");
    let listed_ids: Vec<String> = twice.iter().map(ToString::to_string).collect();
    app.db
        .execute(&format!(
            "UPDATE invoices SET extra_charges = 1 WHERE id IN ({})",
            listed_ids.join(", ")
        ))
        .await
        .unwrap();
    let (customer, thrice) = app
        .add_invoice(Currency::EUR, 4_000, InvoiceStatus::Paid)
        .await;
    app.db
        .execute(&format!(
            "UPDATE invoices SET extra_charges = 2 WHERE id = {}",
            thrice.id
        ))
        .await
        .unwrap();
    twice.push(thrice.id);
    let operator = Browser::sign_in(&app, API_TOKEN).await;

    let overview = operator.page("/console").await;
    assert!(
        overview
            .contains(r#"<a id="double-charged" href="/console/invoices?charged_twice=1">61</a>"#),
        "61 invoices charged twice: {overview}"
    );

    let first = operator.page("/console/invoices?charged_twice=1").await;
    assert!(
        first.contains(r#"<option value="1" selected>charged twice</option>"#),
        "the filter shows what it filters"
    );
    let mut seen = listed(&first);
    assert_eq!(seen.len(), 50, "a full page");
    let mut html = first;
    while let Some(next) = next_page(&html) {
        assert!(
            next.contains("charged_twice=1"),
            "the link keeps the filter: {next}"
        );
        html = operator.page(&next).await;
        seen.extend(listed(&html));
    }
    assert_eq!(
        seen, twice,
        "every one of them, in id order, and nothing else"
    );
    assert_eq!(
        html.matches(r#"<span class="flag">charged twice</span>"#)
            .count(),
        11,
        "each row flagged"
    );

    let theirs = operator
        .page(&format!(
            "/console/invoices?charged_twice=1&customer={}",
            customer.id
        ))
        .await;
    assert_eq!(listed(&theirs), [thrice.id]);
    let disputed_too = operator
        .page("/console/invoices?charged_twice=1&disputed=1")
        .await;
    assert!(
        disputed_too.contains("No invoices match."),
        "{disputed_too}"
    );
    let overdue = operator
        .page("/console/invoices?charged_twice=1&due=overdue")
        .await;
    assert!(
        !overdue.contains(r#"id="searched-to""#),
        "read from their own index, not a window of ids"
    );
}

async fn a_charged_twice_filter_other_than_1_is_refused(app: TestApp) {
    let operator = Browser::sign_in(&app, API_TOKEN).await;
    for value in ["yes", "2", "open"] {
        let response = operator
            .get(&format!("/console/invoices?charged_twice={value}"))
            .await;
        assert_eq!(response.status(), 400, "charged_twice={value}");
        let html = response.text().await.unwrap();
        assert!(html.contains("charged_twice:"), "{html}");
    }
    let empty = operator.page("/console/invoices?charged_twice=").await;
    assert!(empty.contains(r#"id="invoices""#), "empty means any");
}
