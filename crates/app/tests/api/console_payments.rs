//! The operator console and what happens to a payment after it is made: a void refused while a
//! payment may still complete says why.

use antaeus_models::{Currency, InvoiceStatus};

use crate::api_tests;
use crate::console_client::{Browser, location};
use crate::helpers::{API_TOKEN, INVOICES, TestApp};

api_tests!(a_void_refused_while_a_payment_may_complete_says_why);

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
