//! Creating customers and invoices, on SQLite and PostgreSQL: external ids find what exists,
//! idempotency keys replay, invoices check their customer, batches answer row by row.

mod common;

use antaeus_core::store::{
    Creation, CustomerChanges, CustomerRef, CustomerStore, CustomerUpdate, CustomerUpsert,
    InvoiceCreation, InvoiceDraft, InvoiceStore, KeyedRequest, NewCustomer, Upserted,
};
use antaeus_data::testing::TestDatabase;
use antaeus_models::{
    Currency, Customer, CustomerId, ExternalId, IdempotencyKey, Invoice, InvoiceStatus, Money,
    ProviderRefs,
};
use chrono::{DateTime, TimeDelta, Utc};

on_every_backend!(
    a_customer_is_created_once_per_external_id,
    a_keyed_customer_creation_replays_and_refuses_another_request,
    a_customers_currency_changes_only_while_it_has_no_invoice,
    an_upsert_creates_updates_and_leaves_a_currency_conflict_alone,
    an_upsert_sets_only_the_fields_each_row_gives,
    an_invoice_is_created_for_its_customer_in_its_currency_once_per_external_id,
    a_keyed_invoice_creation_replays_and_a_refused_one_leaves_the_key_free,
    a_batch_of_invoices_answers_row_by_row_in_one_transaction,
    invoices_without_an_external_id_are_each_answered_with_their_own_row,
    a_batch_finds_its_customers_by_any_external_id_and_by_id,
);

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
        .unwrap()
        .to_utc()
}

fn ext(text: &str) -> ExternalId {
    ExternalId::parse(text).unwrap()
}

fn customer(currency: Currency, external: Option<&str>) -> NewCustomer {
    NewCustomer {
        currency,
        external_id: external.map(ext),
        name: Some("Acme".into()),
        email: Some("billing@acme.test".into()),
        provider: ProviderRefs {
            customer_ref: Some("cus_1".into()),
            payment_method_ref: None,
        },
    }
}

fn keyed(key: &str, fingerprint: &str) -> Option<KeyedRequest> {
    Some(KeyedRequest {
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: fingerprint.into(),
    })
}

fn draft(
    customer: CustomerRef,
    minor: i64,
    currency: Currency,
    external: Option<&str>,
) -> InvoiceDraft {
    InvoiceDraft {
        customer,
        amount: Money::from_minor(minor, currency).unwrap(),
        external_id: external.map(ext),
        due_at: Some(t0()),
        description: Some("December".into()),
    }
}

async fn created_customer(db: &TestDatabase, new: NewCustomer) -> Customer {
    match db.db.create_customer(&new, None, t0()).await.unwrap() {
        Creation::Created(c) => c,
        other => panic!("{other:?}"),
    }
}

fn created_invoice(outcome: InvoiceCreation) -> Invoice {
    match outcome {
        InvoiceCreation::Done(Creation::Created(i)) => i,
        other => panic!("{other:?}"),
    }
}

async fn a_customer_is_created_once_per_external_id(db: TestDatabase) {
    let acme = created_customer(&db, customer(Currency::EUR, Some("acme-42"))).await;
    assert_eq!(acme.external_id, Some(ext("acme-42")));
    assert_eq!(acme.provider.customer_ref.as_deref(), Some("cus_1"));
    let again = db
        .db
        .create_customer(&customer(Currency::USD, Some("acme-42")), None, t0())
        .await
        .unwrap();
    assert_eq!(again, Creation::Existing(acme.clone()), "the stored fields");
    assert_eq!(
        db.db.find_customer(&ext("acme-42")).await.unwrap(),
        Some(acme)
    );
    assert_eq!(db.db.find_customer(&ext("nobody")).await.unwrap(), None);
    // Without an external id, every creation is a new customer.
    let a = created_customer(&db, customer(Currency::EUR, None)).await;
    let b = created_customer(&db, customer(Currency::EUR, None)).await;
    assert_ne!(a.id, b.id);
}

async fn a_keyed_customer_creation_replays_and_refuses_another_request(db: TestDatabase) {
    let new = customer(Currency::DKK, None);
    let first = db
        .db
        .create_customer(&new, keyed("k-1", "f-1"), t0())
        .await
        .unwrap();
    let Creation::Created(made) = first else {
        panic!("{first:?}")
    };
    let replay = db
        .db
        .create_customer(&new, keyed("k-1", "f-1"), t0())
        .await
        .unwrap();
    assert_eq!(replay, Creation::Replayed(made));
    let other = db
        .db
        .create_customer(&customer(Currency::SEK, None), keyed("k-1", "f-2"), t0())
        .await
        .unwrap();
    assert_eq!(other, Creation::KeyReused);
    // Concurrent requests under one key create one customer.
    let mut racers = Vec::new();
    for _ in 0..6 {
        let store = db.db.clone();
        let new = new.clone();
        racers.push(tokio::spawn(async move {
            store
                .create_customer(&new, keyed("k-2", "f-1"), t0())
                .await
                .unwrap()
        }));
    }
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for racer in racers {
        match racer.await.unwrap() {
            Creation::Created(c) => {
                created += 1;
                ids.insert(c.id);
            }
            Creation::Replayed(c) => {
                ids.insert(c.id);
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((created, ids.len()), (1, 1));
}

async fn a_customers_currency_changes_only_while_it_has_no_invoice(db: TestDatabase) {
    let acme = created_customer(&db, customer(Currency::EUR, Some("acme-1"))).await;
    let changes = CustomerChanges {
        currency: Some(Currency::GBP),
        email: Some(None),
        provider_payment_method_ref: Some(Some("pm_9".into())),
        ..CustomerChanges::default()
    };
    let CustomerUpdate::Updated(changed) = db.db.update_customer(acme.id, &changes).await.unwrap()
    else {
        panic!("no invoice yet: the currency may change")
    };
    assert_eq!(changed.currency, Currency::GBP);
    assert_eq!(changed.email, None, "cleared");
    assert_eq!(changed.name.as_deref(), Some("Acme"), "untouched");
    assert_eq!(changed.provider.payment_method_ref.as_deref(), Some("pm_9"));
    created_invoice(
        db.db
            .create_invoice(
                &draft(CustomerRef::Id(acme.id), 100, Currency::GBP, None),
                None,
                t0(),
            )
            .await
            .unwrap(),
    );
    let back = CustomerChanges {
        currency: Some(Currency::EUR),
        ..CustomerChanges::default()
    };
    let locked = db.db.update_customer(acme.id, &back).await.unwrap();
    assert!(matches!(locked, CustomerUpdate::CurrencyLocked(c) if c.currency == Currency::GBP));
    let unknown = db
        .db
        .update_customer(CustomerId::new(9_999).unwrap(), &back)
        .await
        .unwrap();
    assert_eq!(unknown, CustomerUpdate::NotFound);
}

async fn an_upsert_creates_updates_and_leaves_a_currency_conflict_alone(db: TestDatabase) {
    let known = created_customer(&db, customer(Currency::EUR, Some("known"))).await;
    let rows: Vec<CustomerUpsert> = vec![
        NewCustomer {
            name: Some("Renamed".into()),
            ..customer(Currency::EUR, Some("known"))
        }
        .into(),
        customer(Currency::USD, Some("new-1")).into(),
        customer(Currency::SEK, Some("known")).into(), // the same id again: the last row wins
        customer(Currency::USD, None).into(),
    ];
    let outcomes = db.db.upsert_customers(&rows).await.unwrap();
    assert_eq!(outcomes.len(), 4);
    // "known" appears twice; its last row asks for another currency: left alone.
    let Upserted::Unchanged(kept) = &outcomes[2] else {
        panic!("{:?}", outcomes[2])
    };
    assert_eq!((kept.id, kept.currency), (known.id, Currency::EUR));
    assert!(matches!(&outcomes[0], Upserted::Unchanged(c) if c.id == known.id));
    assert!(matches!(&outcomes[1], Upserted::Created(c) if c.currency == Currency::USD));
    assert!(matches!(&outcomes[3], Upserted::Created(c) if c.external_id.is_none()));
    // The first two rows again: the rename is an update, the new customer is unchanged.
    let again = db.db.upsert_customers(&rows[..2]).await.unwrap();
    assert!(matches!(&again[0], Upserted::Updated(c) if c.name.as_deref() == Some("Renamed")));
    assert!(matches!(&again[1], Upserted::Unchanged(c) if c.external_id == Some(ext("new-1"))));
    let again = db.db.upsert_customers(&rows[..1]).await.unwrap();
    assert!(matches!(&again[0], Upserted::Unchanged(c) if c.name.as_deref() == Some("Renamed")));
}

async fn an_upsert_sets_only_the_fields_each_row_gives(db: TestDatabase) {
    let one = created_customer(&db, customer(Currency::EUR, Some("one"))).await;
    let two = created_customer(&db, customer(Currency::EUR, Some("two"))).await;
    let row = |external: &str| CustomerUpsert {
        currency: Currency::EUR,
        external_id: Some(ext(external)),
        name: None,
        email: None,
        provider_customer_ref: None,
        provider_payment_method_ref: None,
    };
    // Rows giving different fields, in one call.
    let rows = vec![
        CustomerUpsert {
            name: Some(Some("One Renamed".into())),
            ..row("one")
        },
        CustomerUpsert {
            email: Some(None),
            provider_payment_method_ref: Some(Some("pm_2".into())),
            ..row("two")
        },
        CustomerUpsert {
            provider_customer_ref: Some(Some("cus_3".into())),
            ..row("three")
        },
        row("one-again"),
    ];
    let outcomes = db.db.upsert_customers(&rows).await.unwrap();
    let Upserted::Updated(one_after) = &outcomes[0] else {
        panic!("{:?}", outcomes[0])
    };
    assert_eq!(
        (one_after.id, one_after.name.as_deref()),
        (one.id, Some("One Renamed"))
    );
    assert_eq!(one_after.email, one.email, "not given: kept");
    assert_eq!(one_after.provider, one.provider, "not given: kept");
    let Upserted::Updated(two_after) = &outcomes[1] else {
        panic!("{:?}", outcomes[1])
    };
    assert_eq!((two_after.id, &two_after.name), (two.id, &two.name));
    assert_eq!(two_after.email, None, "given empty: cleared");
    assert_eq!(
        two_after.provider,
        ProviderRefs {
            customer_ref: Some("cus_1".into()),
            payment_method_ref: Some("pm_2".into()),
        }
    );
    let Upserted::Created(three) = &outcomes[2] else {
        panic!("{:?}", outcomes[2])
    };
    assert_eq!((&three.name, &three.email), (&None, &None));
    assert_eq!(three.provider.customer_ref.as_deref(), Some("cus_3"));
    assert!(matches!(&outcomes[3], Upserted::Created(c) if c.name.is_none()));
    assert_eq!(
        db.db.find_customer(&ext("two")).await.unwrap().as_ref(),
        Some(two_after),
        "as stored"
    );
}

async fn an_invoice_is_created_for_its_customer_in_its_currency_once_per_external_id(
    db: TestDatabase,
) {
    let acme = created_customer(&db, customer(Currency::EUR, Some("acme-42"))).await;
    let by_external = draft(
        CustomerRef::External(ext("acme-42")),
        12_345,
        Currency::EUR,
        Some("inv-1"),
    );
    let invoice = created_invoice(
        db.db
            .create_invoice(&by_external, None, t0())
            .await
            .unwrap(),
    );
    assert_eq!(invoice.customer_id, acme.id);
    assert_eq!(invoice.status, InvoiceStatus::Pending);
    assert_eq!(invoice.due_at, t0());
    assert_eq!(invoice.description.as_deref(), Some("December"));
    assert_eq!(invoice.amount.to_string(), "123.45 EUR");
    let again = db
        .db
        .create_invoice(
            &draft(CustomerRef::Id(acme.id), 1, Currency::EUR, Some("inv-1")),
            None,
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(again, InvoiceCreation::Done(Creation::Existing(invoice)));
    let mismatch = db
        .db
        .create_invoice(
            &draft(CustomerRef::Id(acme.id), 1, Currency::USD, None),
            None,
            t0(),
        )
        .await
        .unwrap();
    assert_eq!(
        mismatch,
        InvoiceCreation::CurrencyMismatch {
            customer_currency: Currency::EUR
        }
    );
    for unknown in [
        CustomerRef::Id(CustomerId::new(9_999).unwrap()),
        CustomerRef::External(ext("nobody")),
    ] {
        let outcome = db
            .db
            .create_invoice(&draft(unknown, 1, Currency::EUR, None), None, t0())
            .await
            .unwrap();
        assert_eq!(outcome, InvoiceCreation::CustomerNotFound);
    }
    // Without a due date, due at creation.
    let now = t0() + TimeDelta::hours(5);
    let undated = InvoiceDraft {
        due_at: None,
        ..draft(CustomerRef::Id(acme.id), 5, Currency::EUR, None)
    };
    let made = created_invoice(db.db.create_invoice(&undated, None, now).await.unwrap());
    assert_eq!(made.due_at, now);
}

async fn a_keyed_invoice_creation_replays_and_a_refused_one_leaves_the_key_free(db: TestDatabase) {
    let acme = created_customer(&db, customer(Currency::EUR, None)).await;
    let refused = db
        .db
        .create_invoice(
            &draft(CustomerRef::Id(acme.id), 100, Currency::USD, None),
            keyed("k-1", "usd"),
            t0(),
        )
        .await
        .unwrap();
    assert!(matches!(refused, InvoiceCreation::CurrencyMismatch { .. }));
    // The key named nothing: a corrected request may use it.
    let good = draft(CustomerRef::Id(acme.id), 100, Currency::EUR, None);
    let made = created_invoice(
        db.db
            .create_invoice(&good, keyed("k-1", "eur"), t0())
            .await
            .unwrap(),
    );
    let replay = db
        .db
        .create_invoice(&good, keyed("k-1", "eur"), t0())
        .await
        .unwrap();
    assert_eq!(replay, InvoiceCreation::Done(Creation::Replayed(made)));
    let reused = db
        .db
        .create_invoice(&good, keyed("k-1", "other"), t0())
        .await
        .unwrap();
    assert_eq!(reused, InvoiceCreation::Done(Creation::KeyReused));
}

async fn a_batch_of_invoices_answers_row_by_row_in_one_transaction(db: TestDatabase) {
    let eur = created_customer(&db, customer(Currency::EUR, Some("eur"))).await;
    let existing = created_invoice(
        db.db
            .create_invoice(
                &draft(CustomerRef::Id(eur.id), 100, Currency::EUR, Some("old")),
                None,
                t0(),
            )
            .await
            .unwrap(),
    );
    let mut drafts = vec![
        draft(
            CustomerRef::External(ext("eur")),
            200,
            Currency::EUR,
            Some("a"),
        ),
        draft(CustomerRef::Id(eur.id), 300, Currency::EUR, Some("old")),
        draft(CustomerRef::Id(eur.id), 400, Currency::USD, Some("b")),
        draft(
            CustomerRef::External(ext("gone")),
            500,
            Currency::EUR,
            Some("c"),
        ),
        draft(CustomerRef::Id(eur.id), 600, Currency::EUR, Some("a")),
        draft(CustomerRef::Id(eur.id), 700, Currency::EUR, None),
    ];
    // A batch larger than one statement.
    // Each due at its own instant, most with a fraction of a second (milli-, micro-second).
    drafts.extend((0..2_100).map(|n| InvoiceDraft {
        due_at: Some(t0() + TimeDelta::microseconds(n * 1_001) + TimeDelta::milliseconds(n)),
        ..draft(
            CustomerRef::Id(eur.id),
            1_000 + n,
            Currency::EUR,
            Some(&format!("bulk-{n}")),
        )
    }));
    // Two due in a leap second (chrono holds one; PostgreSQL stores the next second), with an
    // external id and without.
    let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
        .unwrap()
        .and_hms_nano_opt(23, 59, 59, 1_250_000_000)
        .unwrap()
        .and_utc();
    drafts[0].due_at = Some(leap);
    drafts[5].due_at = Some(leap);
    let outcomes = db.db.create_invoices(&drafts, t0()).await.unwrap();
    assert_eq!(outcomes.len(), drafts.len());
    let first = created_invoice(outcomes[0].clone());
    assert_eq!(first.amount.to_minor(), 200);
    assert_eq!(first.due_at.to_rfc3339(), "2017-01-01T00:00:00.250+00:00");
    assert_eq!(
        outcomes[1],
        InvoiceCreation::Done(Creation::Existing(existing))
    );
    assert!(matches!(
        outcomes[2],
        InvoiceCreation::CurrencyMismatch { .. }
    ));
    assert_eq!(outcomes[3], InvoiceCreation::CustomerNotFound);
    assert_eq!(
        outcomes[4],
        InvoiceCreation::Done(Creation::Existing(first)),
        "the batch's own earlier row"
    );
    assert!(matches!(
        outcomes[5],
        InvoiceCreation::Done(Creation::Created(_))
    ));
    for (n, outcome) in outcomes[6..].iter().enumerate() {
        let invoice = created_invoice(outcome.clone());
        assert_eq!(invoice.external_id, Some(ext(&format!("bulk-{n}"))));
        assert_eq!(invoice.amount.to_minor(), 1_000 + n as i64);
    }
    // A created invoice is answered as the row stored, not only the fields given: every
    // column the database filled in reads back as answered (storage answers the inserted
    // rows' keys and fills the rest in itself).
    for outcome in outcomes
        .iter()
        .step_by(97)
        .chain([&outcomes[0], &outcomes[5]])
    {
        if let InvoiceCreation::Done(Creation::Created(invoice)) = outcome {
            assert_eq!(
                &db.db.fetch_invoice(invoice.id).await.unwrap().unwrap(),
                invoice
            );
        }
    }
    // Again: everything exists.
    let again = db.db.create_invoices(&drafts[6..], t0()).await.unwrap();
    assert!(
        again
            .iter()
            .all(|o| matches!(o, InvoiceCreation::Done(Creation::Existing(_))))
    );
}

async fn invoices_without_an_external_id_are_each_answered_with_their_own_row(db: TestDatabase) {
    let eur = created_customer(&db, customer(Currency::EUR, Some("eur"))).await;
    let dkk = created_customer(&db, customer(Currency::DKK, None)).await;
    // More than one statement's worth, two customers, each draft its own amount and
    // description, with rows of other kinds in between.
    let mut drafts = Vec::new();
    for n in 0..2_300_i64 {
        let mut d = match n % 3 {
            0 => draft(CustomerRef::Id(dkk.id), 10_000 + n, Currency::DKK, None),
            1 => draft(
                CustomerRef::External(ext("eur")),
                10_000 + n,
                Currency::EUR,
                None,
            ),
            _ => draft(
                CustomerRef::Id(eur.id),
                10_000 + n,
                Currency::EUR,
                Some(&format!("keyed-{n}")),
            ),
        };
        d.description = Some(format!("row {n}"));
        d.due_at = Some(t0() + TimeDelta::minutes(n));
        drafts.push(d);
    }
    drafts.insert(500, draft(CustomerRef::Id(dkk.id), 1, Currency::EUR, None));
    let outcomes = db.db.create_invoices(&drafts, t0()).await.unwrap();
    assert_eq!(outcomes.len(), drafts.len());
    assert!(matches!(
        outcomes[500],
        InvoiceCreation::CurrencyMismatch { .. }
    ));
    let mut last_unkeyed = 0;
    for (d, outcome) in drafts
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| !matches!(o, InvoiceCreation::CurrencyMismatch { .. }))
    {
        let invoice = created_invoice(outcome.clone());
        let customer = match d.customer {
            CustomerRef::Id(id) => id,
            CustomerRef::External(_) => eur.id,
        };
        assert_eq!(invoice.customer_id, customer, "{d:?}");
        assert_eq!(invoice.amount, d.amount);
        assert_eq!(invoice.description, d.description);
        assert_eq!(Some(invoice.due_at), d.due_at);
        assert_eq!(invoice.external_id, d.external_id);
        if invoice.id.get() % 50 == 0 {
            assert_eq!(
                db.db.fetch_invoice(invoice.id).await.unwrap(),
                Some(invoice.clone())
            );
        }
        if d.external_id.is_none() {
            assert!(invoice.id.get() > last_unkeyed, "ids in the drafts' order");
            last_unkeyed = invoice.id.get();
        }
    }
}

/// A batch's customers are found by their keys bound as one JSON array on SQLite: external ids
/// that JSON escapes or that look like numbers or arrays are found exactly, ids and external
/// ids together, and a key no customer has is reported, not matched to another customer.
async fn a_batch_finds_its_customers_by_any_external_id_and_by_id(db: TestDatabase) {
    let names = [
        "q\"uote",
        "back\\slash",
        "123",
        "[1]",
        "a,b",
        "\\u0041",
        "null",
    ];
    let mut customers = Vec::new();
    for name in names {
        customers.push(created_customer(&db, customer(Currency::EUR, Some(name))).await);
    }
    let other = created_customer(&db, customer(Currency::SEK, None)).await;
    let mut drafts: Vec<InvoiceDraft> = names
        .iter()
        .enumerate()
        .map(|(n, name)| {
            draft(
                CustomerRef::External(ext(name)),
                100 + n as i64,
                Currency::EUR,
                None,
            )
        })
        .collect();
    drafts.push(draft(CustomerRef::Id(other.id), 900, Currency::SEK, None));
    // "A" is what `\u0041` would decode to; 123 the id a number-like key could be taken for.
    drafts.push(draft(
        CustomerRef::External(ext("A")),
        901,
        Currency::EUR,
        None,
    ));
    drafts.push(draft(
        CustomerRef::Id(CustomerId::new(123).unwrap()),
        902,
        Currency::EUR,
        None,
    ));
    let outcomes = db.db.create_invoices(&drafts, t0()).await.unwrap();
    for (n, found) in customers.iter().enumerate() {
        let invoice = created_invoice(outcomes[n].clone());
        assert_eq!(invoice.customer_id, found.id, "{}", names[n]);
        assert_eq!(invoice.amount.to_minor(), 100 + n as i64);
    }
    assert_eq!(
        created_invoice(outcomes[names.len()].clone()).customer_id,
        other.id
    );
    assert_eq!(outcomes[names.len() + 1], InvoiceCreation::CustomerNotFound);
    assert_eq!(outcomes[names.len() + 2], InvoiceCreation::CustomerNotFound);
}
