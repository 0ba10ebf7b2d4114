//! What the operator console reads about disputes and double charges, asserted identically on
//! SQLite and PostgreSQL: open disputes and invoices charged more than once counted, disputed
//! and double-charged invoices listed in keyset pages.

mod common;

use antaeus_core::store::{ConsoleStore, InvoiceStore};
use antaeus_data::NewInvoice;
use antaeus_data::testing::TestDatabase;
use antaeus_models::{
    Currency, DisputeFilter, Invoice, InvoiceFilter, InvoiceId, InvoiceStatus, Money, PageLimit,
    PageRequest,
};

on_every_backend!(
    open_disputes_are_counted_and_closed_ones_are_not,
    disputed_invoices_page_by_id_alone_or_with_other_filters,
    double_charged_invoices_are_counted,
    double_charged_invoices_page_by_id_alone_or_with_other_filters,
);

/// Ten PAID invoices of one EUR customer, and their ids in order.
async fn paid_invoices(db: &TestDatabase) -> Vec<InvoiceId> {
    let customer = db.db.insert_customers(vec![Currency::EUR]).await.unwrap()[0].id;
    let invoices = (0..10)
        .map(|n| NewInvoice {
            customer_id: customer,
            amount: Money::from_minor(1_000 + n, Currency::EUR).unwrap(),
            status: InvoiceStatus::Paid,
        })
        .collect();
    db.db.insert_invoices(invoices).await.unwrap();
    let all = db
        .db
        .list_invoices(InvoiceFilter::default(), PageRequest::default())
        .await
        .unwrap();
    all.iter().map(|i| i.id).collect()
}

/// Records a dispute of `invoice` in `status`, as the provider's events would.
async fn dispute(db: &TestDatabase, invoice: InvoiceId, status: &str) {
    db.execute(&format!(
        "UPDATE invoices SET dispute_id = 'dp_{invoice}', dispute_status = '{status}', \
         dispute_reason = 'fraudulent', dispute_amount_minor = amount_minor WHERE id = {invoice}"
    ))
    .await
    .unwrap();
}

/// Records that the provider reported `invoice` paid `extra` more times, as its events would.
async fn charge_again(db: &TestDatabase, invoice: InvoiceId, extra: u32) {
    db.execute(&format!(
        "UPDATE invoices SET extra_charges = {extra} WHERE id = {invoice}"
    ))
    .await
    .unwrap();
}

fn ids(invoices: &[Invoice]) -> Vec<InvoiceId> {
    invoices.iter().map(|i| i.id).collect()
}

fn disputed(filter: DisputeFilter) -> InvoiceFilter {
    InvoiceFilter {
        disputed: Some(filter),
        ..InvoiceFilter::default()
    }
}

async fn open_disputes_are_counted_and_closed_ones_are_not(db: TestDatabase) {
    let invoices = paid_invoices(&db).await;
    assert_eq!(db.db.open_disputes().await.unwrap(), 0, "none yet");
    for (at, status) in [
        (1, "needs_response"),
        (3, "under_review"),
        (4, "warning_needs_response"),
        (6, "won"),
        (7, "lost"),
        (8, "warning_closed"),
        (9, "charge_refunded"),
    ] {
        dispute(&db, invoices[at], status).await;
    }
    assert_eq!(db.db.open_disputes().await.unwrap(), 3);
    dispute(&db, invoices[3], "won").await;
    assert_eq!(db.db.open_disputes().await.unwrap(), 2, "decided");
}

async fn disputed_invoices_page_by_id_alone_or_with_other_filters(db: TestDatabase) {
    let invoices = paid_invoices(&db).await;
    for (at, status) in [(2, "needs_response"), (5, "lost"), (7, "under_review")] {
        dispute(&db, invoices[at], status).await;
    }
    db.execute(&format!(
        "UPDATE invoices SET status = 'PENDING' WHERE id = {}",
        invoices[7]
    ))
    .await
    .unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = PageRequest {
            after,
            limit: PageLimit::new(2).unwrap(),
        };
        let got = db
            .db
            .list_invoices(disputed(DisputeFilter::Any), page)
            .await
            .unwrap();
        if got.is_empty() {
            break;
        }
        assert!(got.iter().all(|i| i.dispute.is_some()));
        after = got.last().map(|i| i.id);
        seen.extend(ids(&got));
    }
    assert_eq!(seen, [invoices[2], invoices[5], invoices[7]], "in id order");

    let open = db
        .db
        .list_invoices(disputed(DisputeFilter::Open), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(ids(&open), [invoices[2], invoices[7]], "lost is closed");
    let open_paid = db
        .db
        .list_invoices(
            InvoiceFilter {
                status: Some(InvoiceStatus::Paid),
                ..disputed(DisputeFilter::Open)
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(ids(&open_paid), [invoices[2]]);
    let fresh = db.db.insert_customers(vec![Currency::USD]).await.unwrap()[0].id;
    let none = db
        .db
        .list_invoices(
            InvoiceFilter {
                customer_id: Some(fresh),
                ..disputed(DisputeFilter::Any)
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(none.is_empty());
}

fn double_charged() -> InvoiceFilter {
    InvoiceFilter {
        double_charged: true,
        ..InvoiceFilter::default()
    }
}

async fn double_charged_invoices_are_counted(db: TestDatabase) {
    let invoices = paid_invoices(&db).await;
    assert_eq!(db.db.double_charged().await.unwrap(), 0, "none yet");
    for (at, extra) in [(1, 1), (4, 2), (8, 1)] {
        charge_again(&db, invoices[at], extra).await;
    }
    dispute(&db, invoices[5], "needs_response").await;
    assert_eq!(db.db.double_charged().await.unwrap(), 3, "disputes aside");
    charge_again(&db, invoices[4], 0).await;
    assert_eq!(db.db.double_charged().await.unwrap(), 2, "refunded");
}

async fn double_charged_invoices_page_by_id_alone_or_with_other_filters(db: TestDatabase) {
    let invoices = paid_invoices(&db).await;
    for (at, extra) in [(2, 1), (5, 3), (7, 1)] {
        charge_again(&db, invoices[at], extra).await;
    }
    dispute(&db, invoices[3], "needs_response").await;
    dispute(&db, invoices[5], "needs_response").await;
    db.execute(&format!(
        "UPDATE invoices SET status = 'PENDING' WHERE id = {}",
        invoices[7]
    ))
    .await
    .unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = PageRequest {
            after,
            limit: PageLimit::new(2).unwrap(),
        };
        let got = db.db.list_invoices(double_charged(), page).await.unwrap();
        if got.is_empty() {
            break;
        }
        assert!(got.iter().all(|i| i.extra_charges > 0));
        after = got.last().map(|i| i.id);
        seen.extend(ids(&got));
    }
    assert_eq!(seen, [invoices[2], invoices[5], invoices[7]], "in id order");
    let three = db
        .db
        .list_invoices(double_charged(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(three[1].extra_charges, 3, "the count is read back");

    let paid = db
        .db
        .list_invoices(
            InvoiceFilter {
                status: Some(InvoiceStatus::Paid),
                ..double_charged()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(ids(&paid), [invoices[2], invoices[5]]);
    let disputed_too = db
        .db
        .list_invoices(
            InvoiceFilter {
                disputed: Some(DisputeFilter::Open),
                ..double_charged()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(ids(&disputed_too), [invoices[5]], "both conditions hold");
    let fresh = db.db.insert_customers(vec![Currency::USD]).await.unwrap()[0].id;
    let none = db
        .db
        .list_invoices(
            InvoiceFilter {
                customer_id: Some(fresh),
                ..double_charged()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(none.is_empty());
}
