//! The data layer's behaviour, asserted identically on SQLite and PostgreSQL.

mod common;

use antaeus_core::store::{CustomerStore, InvoiceStore};
use antaeus_data::NewInvoice;
use antaeus_data::testing::TestDatabase;
use antaeus_models::{
    Currency, Customer, CustomerId, InvoiceFilter, InvoiceId, InvoiceStatus, Money, PageLimit,
    PageRequest,
};

on_every_backend!(
    a_fresh_database_is_empty_and_migrating_again_is_a_no_op,
    inserted_customers_and_invoices_read_back_exactly,
    unknown_ids_read_as_none,
    invoices_page_by_id_with_filters,
    customers_page_by_id,
    amounts_keep_every_cent,
    invoices_of_unknown_customers_are_refused_and_nothing_is_written,
    the_size_grows_with_what_is_written,
);

async fn seed(db: &TestDatabase, currencies: &[Currency], per_customer: i64) -> Vec<Customer> {
    let customers = db.db.insert_customers(currencies.to_vec()).await.unwrap();
    let invoices = customers
        .iter()
        .flat_map(|c| {
            (0..per_customer).map(move |n| NewInvoice {
                customer_id: c.id,
                amount: Money::from_minor(1_000 + n, c.currency).unwrap(),
                status: if n == 0 {
                    InvoiceStatus::Pending
                } else {
                    InvoiceStatus::Paid
                },
            })
        })
        .collect::<Vec<_>>();
    db.db.insert_invoices(invoices).await.unwrap();
    customers
}

fn page<Id>(after: Option<Id>, limit: u16) -> PageRequest<Id> {
    PageRequest {
        after,
        limit: PageLimit::new(limit).unwrap(),
    }
}

async fn a_fresh_database_is_empty_and_migrating_again_is_a_no_op(db: TestDatabase) {
    assert!(db.db.is_empty().await.unwrap());
    assert!(db.db.is_migrated().await.unwrap());
    assert_eq!(
        db.db.migrate().await.unwrap(),
        0,
        "second migrate applies nothing"
    );
    seed(&db, &[Currency::EUR], 1).await;
    assert!(!db.db.is_empty().await.unwrap());
}

async fn inserted_customers_and_invoices_read_back_exactly(db: TestDatabase) {
    let customers = seed(&db, &[Currency::DKK, Currency::GBP], 2).await;
    assert_eq!(customers.len(), 2);
    let mut currencies: Vec<_> = customers.iter().map(|c| c.currency).collect();
    currencies.sort();
    assert_eq!(currencies, [Currency::DKK, Currency::GBP]);

    let gbp = customers
        .iter()
        .find(|c| c.currency == Currency::GBP)
        .unwrap();
    assert_eq!(
        db.db.fetch_customer(gbp.id).await.unwrap().as_ref(),
        Some(gbp)
    );

    let theirs = db
        .db
        .list_invoices(
            InvoiceFilter {
                customer_id: Some(gbp.id),
                ..InvoiceFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(theirs.len(), 2);
    let first = &theirs[0];
    assert_eq!(first.customer_id, gbp.id);
    assert_eq!(
        first.amount,
        Money::from_minor(1_000, Currency::GBP).unwrap()
    );
    assert_eq!(first.status, InvoiceStatus::Pending);
    assert_eq!(theirs[1].status, InvoiceStatus::Paid);
    assert_eq!(
        db.db.fetch_invoice(first.id).await.unwrap().as_ref(),
        Some(first)
    );
}

async fn unknown_ids_read_as_none(db: TestDatabase) {
    seed(&db, &[Currency::EUR], 1).await;
    assert_eq!(
        db.db
            .fetch_customer(CustomerId::new(999).unwrap())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.db
            .fetch_invoice(InvoiceId::new(i64::MAX).unwrap())
            .await
            .unwrap(),
        None
    );
}

async fn invoices_page_by_id_with_filters(db: TestDatabase) {
    seed(&db, &[Currency::EUR, Currency::USD, Currency::SEK], 4).await;
    // Walk every invoice three at a time: ascending ids, no gaps, no repeats.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let got = db
            .db
            .list_invoices(InvoiceFilter::default(), page(after, 3))
            .await
            .unwrap();
        if got.is_empty() {
            break;
        }
        assert!(got.len() <= 3);
        after = got.last().map(|i| i.id);
        seen.extend(got.into_iter().map(|i| i.id.get()));
    }
    assert_eq!(seen.len(), 12);
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "ordered by id: {seen:?}"
    );

    let pending = db
        .db
        .list_invoices(
            InvoiceFilter {
                status: Some(InvoiceStatus::Pending),
                ..InvoiceFilter::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(pending.len(), 3);
    assert!(pending.iter().all(|i| i.status == InvoiceStatus::Pending));

    // Filters combine, and `after` applies to the filtered list.
    let customer = pending[1].customer_id;
    let paid_of_one = db
        .db
        .list_invoices(
            InvoiceFilter {
                status: Some(InvoiceStatus::Paid),
                customer_id: Some(customer),
                ..InvoiceFilter::default()
            },
            page(None, 2),
        )
        .await
        .unwrap();
    assert_eq!(paid_of_one.len(), 2);
    assert!(
        paid_of_one
            .iter()
            .all(|i| i.customer_id == customer && i.status == InvoiceStatus::Paid)
    );
    let rest = db
        .db
        .list_invoices(
            InvoiceFilter {
                status: Some(InvoiceStatus::Paid),
                customer_id: Some(customer),
                ..InvoiceFilter::default()
            },
            page(Some(paid_of_one[1].id), 1000),
        )
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert!(rest[0].id > paid_of_one[1].id);
}

async fn customers_page_by_id(db: TestDatabase) {
    seed(&db, Currency::ALL, 0).await;
    let first = db.db.list_customers(page(None, 2)).await.unwrap();
    assert_eq!(first.len(), 2);
    let rest = db
        .db
        .list_customers(page(Some(first[1].id), 1000))
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
    assert!(rest[0].id > first[1].id);
    assert!(
        db.db
            .list_customers(page(Some(rest[2].id), 10))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn amounts_keep_every_cent(db: TestDatabase) {
    let customer = &db.db.insert_customers(vec![Currency::EUR]).await.unwrap()[0];
    let amounts = [1_i64, 99, 100, 12_345, 4_999_999, i64::MAX];
    let invoices = amounts
        .iter()
        .map(|&minor| NewInvoice {
            customer_id: customer.id,
            amount: Money::from_minor(minor, Currency::EUR).unwrap(),
            status: InvoiceStatus::Pending,
        })
        .collect();
    db.db.insert_invoices(invoices).await.unwrap();
    let got = db
        .db
        .list_invoices(InvoiceFilter::default(), PageRequest::default())
        .await
        .unwrap();
    let minors: Vec<i64> = got.iter().map(|i| i.amount.to_minor()).collect();
    assert_eq!(minors, amounts);
    // Their total is exact, past the 64-bit range, and stays so as more are added.
    let totals = antaeus_core::store::StatsStore::invoice_totals(&db.db)
        .await
        .unwrap();
    assert_eq!(totals.len(), 1);
    assert_eq!(totals[0].invoices, amounts.len() as u64);
    let sum: i128 = amounts.iter().map(|&a| i128::from(a)).sum();
    assert_eq!(totals[0].amount.minor(), sum);
    let more = NewInvoice {
        customer_id: customer.id,
        amount: Money::from_minor(i64::MAX, Currency::EUR).unwrap(),
        status: InvoiceStatus::Pending,
    };
    db.db.insert_invoices(vec![more, more]).await.unwrap();
    let totals = antaeus_core::store::StatsStore::invoice_totals(&db.db)
        .await
        .unwrap();
    assert_eq!(totals[0].amount.minor(), sum + 2 * i128::from(i64::MAX));
    assert_eq!(totals[0].amount.to_string(), "276701161105693399.65 EUR");
}

async fn invoices_of_unknown_customers_are_refused_and_nothing_is_written(db: TestDatabase) {
    let customer = &db.db.insert_customers(vec![Currency::EUR]).await.unwrap()[0];
    let good = NewInvoice {
        customer_id: customer.id,
        amount: Money::from_minor(500, Currency::EUR).unwrap(),
        status: InvoiceStatus::Pending,
    };
    let orphan = NewInvoice {
        customer_id: CustomerId::new(customer.id.get() + 100).unwrap(),
        ..good
    };
    assert!(db.db.insert_invoices(vec![good, orphan]).await.is_err());
    let all = db
        .db
        .list_invoices(InvoiceFilter::default(), PageRequest::default())
        .await
        .unwrap();
    assert!(all.is_empty(), "the batch is one transaction: {all:?}");
}

async fn the_size_grows_with_what_is_written(db: TestDatabase) {
    let empty = db.db.size_bytes().await.unwrap();
    assert!(empty > 0, "a migrated database has tables: {empty}");
    seed(&db, Currency::ALL, 2_000).await;
    let seeded = db.db.size_bytes().await.unwrap();
    // 10,000 invoices take well over 100 bytes each with their indexes.
    assert!(
        seeded > empty + 1_000_000,
        "{empty} bytes empty, {seeded} bytes with 10,000 invoices"
    );
}
