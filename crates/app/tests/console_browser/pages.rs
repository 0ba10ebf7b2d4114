//! Every page of the console, with what must be on it and what a keyboard user must reach.

use fantoccini::Locator;
use fantoccini::elements::Element;

use crate::browser::Browser;
use crate::console::Console;

/// One console page as the tests visit it.
#[derive(Debug, Clone)]
pub struct Page {
    /// Its name, also the screenshot's file name (`docs/console/<name>.png`).
    pub name: &'static str,
    /// Where it is.
    pub path: String,
    /// Ids of its main content (from the page contract), each of which must be present.
    pub content: &'static [&'static str],
    /// Ids of its main controls, each of which Tab must reach.
    pub actions: &'static [&'static str],
}

/// The sign-in page (seen signed out).
pub fn sign_in_page() -> Page {
    Page {
        name: "sign-in",
        path: "/console/sign-in".into(),
        content: &["token"],
        actions: &["token"],
    }
}

/// The pages behind the sign-in, on `console`'s data: the run it billed, a FAILED invoice of
/// that run and the customer with an external id.
pub async fn signed_in_pages(console: &Console) -> Vec<Page> {
    let run = console.run_id.expect("a console that was billed");
    let failed = *console
        .invoices_in("FAILED")
        .await
        .first()
        .expect("the run failed some invoices");
    vec![
        Page {
            name: "overview",
            path: "/console".into(),
            content: &[
                "invoice-totals",
                "collected",
                "recent-runs",
                "failure-reasons",
                "decline-codes",
                "provider-health",
                "outbox",
                "disputes",
            ],
            actions: &["run-key", "start-run"],
        },
        Page {
            name: "runs",
            path: "/console/runs".into(),
            content: &["runs"],
            actions: &[],
        },
        Page {
            name: "run",
            path: format!("/console/runs/{run}"),
            content: &["run-status", "run-chart", "run-problems"],
            actions: &[],
        },
        Page {
            name: "invoices",
            path: "/console/invoices".into(),
            content: &["invoices", "filter-status"],
            actions: &[
                "filter-status",
                "filter-customer",
                "filter-currency",
                "filter-due",
                "filter-reason",
                "filter-disputed",
                "filter-charged-twice",
                "apply-filters",
            ],
        },
        Page {
            name: "invoice",
            path: format!("/console/invoices/{failed}"),
            content: &[
                "invoice-fields",
                "invoice-status",
                "invoice-next-attempt",
                "attempts",
                "events",
            ],
            actions: &["retry-now", "void"],
        },
        Page {
            name: "customers",
            path: "/console/customers".into(),
            content: &["customers"],
            actions: &["external-id", "search"],
        },
        Page {
            name: "customer",
            path: format!("/console/customers/{}", console.customer_id),
            content: &["invoices"],
            actions: &[],
        },
    ]
}

/// Filters the invoice list by `status` through its form (however scripts are set) and checks
/// that every row listed is in that status; returns the rows.
pub async fn filter_invoices_by_status(browser: &Browser, status: &str) -> Vec<Element> {
    browser.goto("/console/invoices").await;
    browser
        .by_id("filter-status")
        .await
        .select_by_value(status)
        .await
        .unwrap_or_else(|e| panic!("choose status {status}: {e}"));
    browser.by_id("apply-filters").await.click().await.unwrap();
    browser.wait_for_query(&format!("status={status}")).await;
    let rows = browser.rows("invoices").await;
    assert!(
        !rows.is_empty(),
        "the data has {status} invoices, so the filter lists some"
    );
    for row in &rows {
        let text = row.text().await.unwrap();
        assert!(
            text.contains(status),
            "status={status} lists only {status} invoices: {text}"
        );
    }
    rows
}

/// Asserts what every page has: `<main id="main">`, one non-empty `<h1>`, the navigation and
/// the page's own content.
pub async fn assert_page_shape(browser: &Browser, page: &Page) {
    let at = &page.path;
    assert_eq!(
        browser.path().await,
        *at,
        "{} is served where asked, not redirected",
        page.name
    );
    assert!(browser.has("main").await, "{at} has <main id=\"main\">");
    let h1 = browser.client.find_all(Locator::Css("h1")).await.unwrap();
    assert_eq!(h1.len(), 1, "{at} has one <h1>");
    assert!(
        !h1[0].text().await.unwrap().trim().is_empty(),
        "{at}: empty <h1>"
    );
    for id in page.content {
        assert!(browser.has(id).await, "{at} has #{id}");
    }
    if page.name == "sign-in" {
        return;
    }
    for (label, href) in [
        ("Overview", "/console"),
        ("Runs", "/console/runs"),
        ("Invoices", "/console/invoices"),
        ("Customers", "/console/customers"),
    ] {
        let mut labels = Vec::new();
        for link in browser.all(&format!("nav a[href='{href}']")).await {
            labels.push(link.text().await.unwrap().trim().to_owned());
        }
        assert!(
            labels.iter().any(|l| l == label),
            "{at}: the nav links to {href} as {label:?} (found {labels:?})"
        );
    }
}
