//! Creating invoices, one under an idempotency key or many at once, in a few statements per
//! call: customers are looked up together, invoices with an external id inserted together (the
//! external id's uniqueness per customer decides what already exists).

use std::collections::{HashMap, HashSet};

use antaeus_core::store::{
    Creation, CustomerRef, InvoiceCreation, InvoiceDraft, KeyedRequest, StoreError,
};
use antaeus_models::{Currency, Invoice, InvoiceStatus};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use super::ROWS_PER_STATEMENT;
use super::insert_new::InsertNew;
use super::keys::{KeyState, bind_key, claim_key, release_key};
use super::new_invoices::{NewInvoiceRow, insert_in_order};
use super::row_lock::{HeldCustomer, LockCustomers};
use crate::Database;
use crate::db_time::DbTime;
use crate::rows::InvoiceRow;
use crate::schema::invoices;
use crate::stats::{StatsDelta, apply_stats};
use crate::time::to_db;

/// The scope of invoice creations' idempotency keys.
const KEY_SCOPE: &str = "invoices";

/// What became of one draft, before it is turned into domain values.
enum Outcome {
    Created(InvoiceRow),
    Existing(InvoiceRow),
    Replayed(InvoiceRow),
    KeyReused,
    CustomerNotFound,
    CurrencyMismatch(Currency),
}

/// Creates `drafts` on connection `$c` at `$now`; evaluates to `QueryResult<Vec<Outcome>>`.
macro_rules! create_batch {
    ($c:ident, $drafts:expr, $now:expr) => {{
        let drafts: &[InvoiceDraft] = $drafts;
        let now: NaiveDateTime = $now;
        let customers = resolve_customers!($c, drafts);
        let mut out: Vec<Option<Outcome>> = (0..drafts.len()).map(|_| None).collect();
        let mut with_external: Vec<(usize, i64)> = Vec::new();
        let mut without_external: Vec<(usize, i64)> = Vec::new();
        for (i, draft) in drafts.iter().enumerate() {
            match customers.get(&draft.customer) {
                None => out[i] = Some(Outcome::CustomerNotFound),
                Some((_, currency)) if *currency != draft.amount.currency() => {
                    out[i] = Some(Outcome::CurrencyMismatch(*currency))
                }
                Some((id, _)) if draft.external_id.is_some() => with_external.push((i, *id)),
                Some((id, _)) => without_external.push((i, *id)),
            }
        }
        let row = |(i, customer): &(usize, i64)| {
            let draft = &drafts[*i];
            NewInvoiceRow {
                customer_id: *customer,
                amount_minor: draft.amount.to_minor(),
                currency: draft.amount.currency().as_str(),
                status: "PENDING",
                external_id: draft.external_id.as_ref().map(|e| e.as_str()),
                due_at: DbTime(draft.due_at.map_or(now, to_db)),
                description: draft.description.as_deref(),
                created_at: DbTime(now),
            }
        };
        for chunk in with_external.chunks(ROWS_PER_STATEMENT) {
            // A (customer, external id) pair the chunk names twice is inserted from its first
            // draft only (which of two rows a statement inserts is not the engine's promise);
            // the later drafts find it below, as they would in a later statement.
            let mut named: HashSet<(i64, &str)> = HashSet::with_capacity(chunk.len());
            let (firsts, repeats): (Vec<(usize, i64)>, Vec<(usize, i64)>) =
                chunk.iter().partition(|(i, customer)| {
                    let external = drafts[*i].external_id.as_ref().map_or("", |e| e.as_str());
                    named.insert((*customer, external))
                });
            let rows: Vec<NewInvoiceRow> = firsts.iter().map(row).collect();
            // One statement for the chunk: the (customer, external id) pairs taken already are
            // skipped, and found below.
            let inserted = InsertNew::insert_new($c, &rows)?;
            let mut created: HashMap<(i64, &str), i64> = HashMap::with_capacity(inserted.len());
            for key in &inserted {
                if let Some(external) = key.external_id.as_deref() {
                    created.insert((key.customer_id, external), key.id);
                }
            }
            let mut existing: Vec<(usize, i64)> = repeats;
            for ((i, customer), row) in firsts.iter().zip(&rows) {
                let external = drafts[*i].external_id.as_ref().map(|e| e.as_str());
                match external.and_then(|e| created.remove(&(*customer, e))) {
                    Some(id) => out[*i] = Some(Outcome::Created(row.stored(id))),
                    None => existing.push((*i, *customer)),
                }
            }
            if !existing.is_empty() {
                let externals: Vec<&str> = existing
                    .iter()
                    .filter_map(|(i, _)| drafts[*i].external_id.as_ref().map(|e| e.as_str()))
                    .collect();
                let found: HashMap<(i64, String), InvoiceRow> = invoices::table
                    .filter(invoices::external_id.eq_any(&externals))
                    .select(InvoiceRow::as_select())
                    .load::<InvoiceRow>($c)?
                    .into_iter()
                    .filter_map(|r| r.external_id.clone().map(|e| ((r.customer_id, e), r)))
                    .collect();
                // Two drafts of the batch with one external id: the second finds the first.
                for (i, customer) in existing {
                    let external = drafts[i].external_id.as_ref().map(|e| e.to_string());
                    let key = (customer, external.unwrap_or_default());
                    out[i] = found.get(&key).cloned().map(Outcome::Existing);
                }
            }
        }
        for chunk in without_external.chunks(ROWS_PER_STATEMENT) {
            let rows: Vec<NewInvoiceRow> = chunk.iter().map(row).collect();
            for ((i, _), stored) in chunk.iter().zip(insert_in_order!($c, &rows)?) {
                out[*i] = Some(Outcome::Created(stored));
            }
        }
        let mut stats = StatsDelta::default();
        for (draft, outcome) in drafts.iter().zip(&out) {
            if let Some(Outcome::Created(_)) = outcome {
                stats.added(InvoiceStatus::Pending, draft.amount);
            }
        }
        apply_stats!($c, &stats)?;
        out.into_iter()
            .enumerate()
            .map(|(i, outcome)| {
                outcome.ok_or_else(|| {
                    diesel::result::Error::DeserializationError(
                        format!("draft {i} was left without an outcome").into(),
                    )
                })
            })
            .collect::<QueryResult<Vec<Outcome>>>()
    }};
}

/// The drafts' customers, by reference: their ids and currencies, held against a currency
/// change until the transaction ends; evaluates to `HashMap<CustomerRef, (i64, Currency)>`.
macro_rules! resolve_customers {
    ($c:ident, $drafts:expr) => {{
        let drafts: &[InvoiceDraft] = $drafts;
        let mut ids: Vec<i64> = Vec::new();
        let mut externals: Vec<&str> = Vec::new();
        for draft in drafts {
            match &draft.customer {
                CustomerRef::Id(id) => ids.push(id.get()),
                CustomerRef::External(e) => externals.push(e.as_str()),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        externals.sort_unstable();
        externals.dedup();
        let rows = LockCustomers::hold_customers($c, &ids, &externals)?;
        let mut customers: HashMap<CustomerRef, (i64, Currency)> = HashMap::new();
        for HeldCustomer {
            id,
            currency,
            external_id: external,
        } in rows
        {
            let currency: Currency = currency
                .parse()
                .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            if let Ok(customer) = antaeus_models::CustomerId::new(id) {
                customers.insert(CustomerRef::Id(customer), (id, currency));
            }
            if let Some(Ok(external)) = external.map(antaeus_models::ExternalId::parse) {
                customers.insert(CustomerRef::External(external), (id, currency));
            }
        }
        customers
    }};
}

/// Creates one invoice (see `InvoiceStore::create_invoice`).
pub(crate) async fn create_invoice(
    db: &Database,
    draft: &InvoiceDraft,
    keyed: Option<KeyedRequest>,
    now: DateTime<Utc>,
) -> Result<InvoiceCreation, StoreError> {
    let draft = draft.clone();
    let now = to_db(now);
    let outcome = db
        .run(move |pools| {
            write_txn!(pools, |c| {
                match claim_key!(c, KEY_SCOPE, keyed.as_ref(), now)? {
                    KeyState::Fresh => {}
                    KeyState::Replay(id) => {
                        let row = invoices::table.find(id).select(InvoiceRow::as_select());
                        return Ok(Outcome::Replayed(row.first(c)?));
                    }
                    KeyState::Reused => return Ok(Outcome::KeyReused),
                }
                let Some(outcome) = create_batch!(c, std::slice::from_ref(&draft), now)?.pop()
                else {
                    return Err(diesel::result::Error::NotFound);
                };
                match &outcome {
                    Outcome::Created(row) | Outcome::Existing(row) => {
                        bind_key!(c, KEY_SCOPE, keyed.as_ref(), row.id)
                    }
                    _ => release_key!(c, KEY_SCOPE, keyed.as_ref()),
                }
                Ok(outcome)
            })
        })
        .await?;
    creation(outcome)
}

/// Creates many invoices (see `InvoiceStore::create_invoices`).
pub(crate) async fn create_invoices(
    db: &Database,
    drafts: &[InvoiceDraft],
    now: DateTime<Utc>,
) -> Result<Vec<InvoiceCreation>, StoreError> {
    let drafts = drafts.to_vec();
    let now = to_db(now);
    let rollback = db.dry_run;
    let outcomes = db
        .run(move |pools| {
            write_txn_or_dry_run!(pools, rollback, |c| create_batch!(c, &drafts, now))
        })
        .await?;
    outcomes.into_iter().map(creation).collect()
}

fn creation(outcome: Outcome) -> Result<InvoiceCreation, StoreError> {
    let invoice = |row| Invoice::try_from(row);
    Ok(match outcome {
        Outcome::Created(row) => InvoiceCreation::Done(Creation::Created(invoice(row)?)),
        Outcome::Existing(row) => InvoiceCreation::Done(Creation::Existing(invoice(row)?)),
        Outcome::Replayed(row) => InvoiceCreation::Done(Creation::Replayed(invoice(row)?)),
        Outcome::KeyReused => InvoiceCreation::Done(Creation::KeyReused),
        Outcome::CustomerNotFound => InvoiceCreation::CustomerNotFound,
        Outcome::CurrencyMismatch(customer_currency) => {
            InvoiceCreation::CurrencyMismatch { customer_currency }
        }
    })
}
