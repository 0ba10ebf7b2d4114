//! The operator console and what happens to a payment after it is made: refunds through the
//! invoice's page (once per form, never beyond what is left, operators only), disputes and
//! double charges flagged and counted, and a void refused while a payment may still complete.

use antaeus_data::Backend;
use antaeus_models::{Currency, InvoiceId, InvoiceStatus};

use crate::api_tests;
use crate::console_client::{Browser, READ_TOKEN, input_value, location};
use crate::helpers::{API_TOKEN, INVOICES, TestApp, spawn_app_with};

api_tests!(
    disputes_and_double_charges_are_flagged_listed_and_counted,
    a_void_refused_while_a_payment_may_complete_says_why,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_refund_refunds_once_per_form_and_never_beyond_what_is_left_on_sqlite() {
    refunds_through_the_console(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_refund_refunds_once_per_form_and_never_beyond_what_is_left_on_postgres() {
    refunds_through_the_console(Backend::Postgres).await;
}

/// The API's JSON at `path`, read with the API token (a read token is configured).
async fn api_json(app: &TestApp, path: &str) -> serde_json::Value {
    let response = app.get_with_token(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    response.json().await.expect("JSON body")
}

/// What the API says was refunded of invoice 1.
async fn refunded(app: &TestApp) -> f64 {
    let invoice = api_json(app, &format!("{INVOICES}/1")).await;
    invoice["refundedAmount"]["value"].as_f64().unwrap()
}

/// How many refunds the API lists for invoice 1.
async fn refund_count(app: &TestApp) -> usize {
    let refunds = api_json(app, &format!("{INVOICES}/1/refunds")).await;
    refunds.as_array().unwrap().len()
}

/// The refund form of a fresh render of `page`: its CSRF token and its idempotency key.
async fn refund_form(operator: &Browser<'_>, page: &str) -> (String, String) {
    let html = operator.page(page).await;
    let csrf = input_value(&html, "csrf").expect("a CSRF input");
    let key = input_value(&html, "key").expect("the refund form's key");
    assert!(key.starts_with("console-refund-"), "{key}");
    (csrf, key)
}

/// A refund form's fields as a browser sends them.
fn fields<'a>(
    csrf: &'a str,
    key: &'a str,
    amount: &'a str,
    reason: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("csrf", csrf),
        ("key", key),
        ("amount", amount),
        ("reason", reason),
    ]
}

/// Posts a refund form of invoice 1, asserting that the console sends the browser back to the
/// invoice's page with `flash`; returns that page's HTML.
async fn refund(operator: &Browser<'_>, form: &[(&str, &str)], flash: &str) -> String {
    let answer = operator.post(ACTION, form).await;
    assert_eq!(answer.status(), 303, "{form:?}");
    let back = location(&answer);
    assert_eq!(back, format!("{PAGE}?flash={flash}"), "{form:?}");
    operator.page(&back).await
}

/// Invoice 1's page, and where its refund form posts.
const PAGE: &str = "/console/invoices/1";
const ACTION: &str = "/console/invoices/1/refund";

async fn refunds_through_the_console(backend: Backend) {
    let Some(app) = spawn_app_with(
        backend,
        &[
            ("ANTAEUS_SIMULATED_OUTCOMES", "charged=1"),
            ("ANTAEUS_READ_TOKEN", READ_TOKEN),
        ],
    )
    .await
    else {
        return;
    };
    app.bill().await;
    let invoice = api_json(&app, &format!("{INVOICES}/1")).await;
    assert_eq!(invoice["status"], "PAID", "{invoice}");
    let paid = invoice["amount"]["value"].as_f64().unwrap();
    let form_tag = format!(r#"action="{ACTION}""#);

    // A viewer sees the refunds but no form, and a forged one is refused.
    let viewer = Browser::sign_in(&app, READ_TOKEN).await;
    let html = viewer.page(PAGE).await;
    assert!(html.contains(r#"id="refunds""#), "{html}");
    assert!(html.contains(r#"id="invoice-refunded""#), "{html}");
    assert!(!html.contains(&form_tag), "no refund form for a viewer");
    let viewer_csrf = input_value(&html, "csrf").unwrap();
    let forged = fields(&viewer_csrf, "console-refund-forged", "1.00", "");
    let refused = viewer.post(ACTION, &forged).await;
    assert_eq!(refused.status(), 403, "a viewer cannot refund");

    // An operator's form without the session's CSRF token is refused too.
    let operator = Browser::sign_in(&app, API_TOKEN).await;
    assert!(operator.page(PAGE).await.contains(&form_tag));
    let (csrf, key) = refund_form(&operator, PAGE).await;
    let no_csrf = operator
        .post(ACTION, &[("key", &key), ("amount", "5.00"), ("reason", "")])
        .await;
    assert_eq!(no_csrf.status(), 403, "no CSRF token");
    let other_csrf = fields(&viewer_csrf, &key, "5.00", "");
    let refused = operator.post(ACTION, &other_csrf).await;
    assert_eq!(refused.status(), 403, "another session's CSRF token");
    assert_eq!(refunded(&app).await, 0.0, "nothing was refunded");
    assert_eq!(refund_count(&app).await, 0);

    // Refunded through the provider, as the API refunds.
    let form = fields(&csrf, &key, "5.00", "requested_by_customer");
    let html = refund(&operator, &form, "refunded").await;
    assert!(html.contains(r#"id="flash" role="status""#), "{html}");
    for shown in ["requested_by_customer", "succeeded", "simr_"] {
        assert!(html.contains(shown), "{shown} in the refunds table");
    }
    assert_eq!(refunded(&app).await, 5.0);

    // Pressed twice: the same form refunds once.
    let html = refund(&operator, &form, "refund-repeated").await;
    assert!(html.contains(r#"id="flash" role="status""#), "{html}");
    assert_eq!(refunded(&app).await, 5.0);
    assert_eq!(refund_count(&app).await, 1);
    // The same form sent back with another amount: refused, nothing refunded.
    let changed = fields(&csrf, &key, "6.00", "requested_by_customer");
    let html = refund(&operator, &changed, "refund-key-used").await;
    assert!(html.contains(r#"role="alert""#), "{html}");
    assert_eq!(refunded(&app).await, 5.0);

    // More than is left: refused with the reason, as other refused actions are.
    let (csrf, key) = refund_form(&operator, PAGE).await;
    let too_much = fields(&csrf, &key, "100000.00", "");
    let html = refund(&operator, &too_much, "refund-too-much").await;
    assert!(
        html.contains(r#"id="flash" role="alert" class="error""#),
        "{html}"
    );
    assert!(html.contains("more than is left to refund"), "{html}");
    let not_an_amount = fields(&csrf, &key, "five", "");
    refund(&operator, &not_an_amount, "refund-invalid").await;
    assert_eq!(refunded(&app).await, 5.0);
    assert_eq!(refund_count(&app).await, 1);

    // A blank amount refunds what is left; then there is nothing left and no form.
    let (csrf, key) = refund_form(&operator, PAGE).await;
    let html = refund(&operator, &fields(&csrf, &key, "", ""), "refunded").await;
    assert!((refunded(&app).await - paid).abs() < 0.001);
    assert_eq!(refund_count(&app).await, 2);
    assert!(!html.contains(&form_tag), "nothing is left to refund");
}

/// Records a dispute of `invoice` as the provider's webhook would.
async fn dispute(app: &TestApp, invoice: InvoiceId, status: &str, due: &str) {
    app.db
        .execute(&format!(
            "UPDATE invoices SET dispute_id = 'dp_{invoice}', dispute_status = '{status}', \
             dispute_reason = 'fraudulent', dispute_amount_minor = amount_minor, \
             dispute_evidence_due_by = {due} WHERE id = {invoice}"
        ))
        .await
        .unwrap();
}

async fn disputes_and_double_charges_are_flagged_listed_and_counted(app: TestApp) {
    let (_, open) = app
        .add_invoice(Currency::EUR, 2_000, InvoiceStatus::Paid)
        .await;
    let (_, lost) = app
        .add_invoice(Currency::USD, 3_000, InvoiceStatus::Paid)
        .await;
    let (_, twice) = app
        .add_invoice(Currency::EUR, 4_000, InvoiceStatus::Paid)
        .await;
    dispute(&app, open.id, "needs_response", "'2030-01-15 00:00:00'").await;
    dispute(&app, lost.id, "lost", "NULL").await;
    app.db
        .execute(&format!(
            "UPDATE invoices SET extra_charges = 1 WHERE id = {}",
            twice.id
        ))
        .await
        .unwrap();
    let operator = Browser::sign_in(&app, API_TOKEN).await;
    let link = |id: InvoiceId| format!(r#"href="/console/invoices/{id}""#);

    let overview = operator.page("/console").await;
    assert!(
        overview.contains(r#"<a id="open-disputes" href="/console/invoices?disputed=open">1</a>"#),
        "one open dispute: {overview}"
    );

    let disputed = operator.page("/console/invoices?disputed=1").await;
    assert!(disputed.contains(&link(open.id)) && disputed.contains(&link(lost.id)));
    assert!(!disputed.contains(&link(twice.id)), "not disputed");
    assert!(disputed.contains(r#"<span class="flag">disputed</span>"#));
    assert!(disputed.contains(r#"<span class="flag">dispute lost</span>"#));
    assert!(
        disputed.contains(r#"<option value="1" selected>"#),
        "the filter shows what it filters"
    );
    let open_only = operator.page("/console/invoices?disputed=open").await;
    assert!(open_only.contains(&link(open.id)) && !open_only.contains(&link(lost.id)));
    let seeded = operator
        .page("/console/invoices?disputed=open&status=PENDING")
        .await;
    assert!(seeded.contains("No invoices match."), "{seeded}");
    let theirs = operator
        .page(&format!("/console/invoices?customer={}", twice.customer_id))
        .await;
    assert!(theirs.contains(r#"<span class="flag">charged twice</span>"#));

    let page = operator
        .page(&format!("/console/invoices/{}", open.id))
        .await;
    assert!(page.contains(r#"id="dispute""#), "{page}");
    assert!(page.contains(r#"id="dispute-open""#), "flagged while open");
    for shown in ["needs_response", "fraudulent", "2030-01-15 00:00:00 UTC"] {
        assert!(page.contains(shown), "{shown}");
    }
    let page = operator
        .page(&format!("/console/invoices/{}", lost.id))
        .await;
    assert!(page.contains(r#"id="dispute""#) && page.contains("lost"));
    assert!(!page.contains(r#"id="dispute-open""#), "closed");
    assert!(!page.contains(r#"id="double-charged""#));
    let page = operator
        .page(&format!("/console/invoices/{}", twice.id))
        .await;
    assert!(page.contains(r#"id="double-charged""#), "{page}");
    assert!(page.contains("Charged twice: refund one of the payments."));
    assert!(!page.contains(r#"id="dispute""#));
}

async fn a_void_refused_while_a_payment_may_complete_says_why(app: TestApp) {
    let (_, invoice) = app
        .add_invoice(Currency::EUR, 1_500, InvoiceStatus::Pending)
        .await;
    app.db
        .execute(&format!(
            "UPDATE invoices SET open_intent = 'pi_waiting' WHERE id = {}",
            invoice.id
        ))
        .await
        .unwrap();
    let operator = Browser::sign_in(&app, API_TOKEN).await;
    let page = format!("/console/invoices/{}", invoice.id);
    let csrf = operator.csrf(&page).await;
    let refused = operator
        .post(&format!("{page}/void"), &[("csrf", &csrf)])
        .await;
    assert_eq!(refused.status(), 303);
    let back = location(&refused);
    assert_eq!(back, format!("{page}?flash=payment-may-complete"));
    let html = operator.page(&back).await;
    assert!(html.contains(r#"role="alert""#) && html.contains("may still complete"));
    let json = app.get_json(&format!("{INVOICES}/{}", invoice.id)).await;
    assert_eq!(json["status"], "PENDING", "not voided");
}
