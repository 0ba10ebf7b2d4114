//! Creating, updating and upserting customers.

use std::collections::{BTreeMap, HashMap};

use antaeus_core::store::{
    Creation, CustomerChanges, CustomerUpdate, CustomerUpsert, KeyedRequest, NewCustomer,
    StoreError, Upserted,
};
use antaeus_models::{Customer, CustomerId};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;

use super::ROWS_PER_STATEMENT;
use super::keys::{KeyState, bind_key, claim_key};
use super::row_lock::LockCustomers;
use crate::Database;
use crate::rows::CustomerRow;
use crate::schema::{customers, invoices};
use crate::time::to_db;

/// The scope of customer creations' idempotency keys.
const KEY_SCOPE: &str = "customers";

/// A customer row to insert. Missing fields are bound as NULL rather than left to the column's
/// default, so that SQLite too upserts a chunk in one multi-row statement (diesel inserts row
/// by row where a row might take a default).
#[derive(Insertable)]
#[diesel(table_name = customers, treat_none_as_default_value = false)]
struct NewCustomerRow<'a> {
    currency: &'static str,
    external_id: Option<&'a str>,
    name: Option<&'a str>,
    email: Option<&'a str>,
    provider_customer_ref: Option<&'a str>,
    provider_payment_method_ref: Option<&'a str>,
}

impl<'a> From<&'a NewCustomer> for NewCustomerRow<'a> {
    fn from(c: &'a NewCustomer) -> Self {
        Self {
            currency: c.currency.as_str(),
            external_id: c.external_id.as_ref().map(|e| e.as_str()),
            name: c.name.as_deref(),
            email: c.email.as_deref(),
            provider_customer_ref: c.provider.customer_ref.as_deref(),
            provider_payment_method_ref: c.provider.payment_method_ref.as_deref(),
        }
    }
}

impl<'a> From<&'a CustomerUpsert> for NewCustomerRow<'a> {
    /// The row a new customer gets: the fields the upsert row does not give are NULL.
    fn from(c: &'a CustomerUpsert) -> Self {
        let given = |field: &'a Option<Option<String>>| field.as_ref().and_then(|v| v.as_deref());
        Self {
            currency: c.currency.as_str(),
            external_id: c.external_id.as_ref().map(|e| e.as_str()),
            name: given(&c.name),
            email: given(&c.email),
            provider_customer_ref: given(&c.provider_customer_ref),
            provider_payment_method_ref: given(&c.provider_payment_method_ref),
        }
    }
}

/// Which optional columns an upsert row gives: those it sets on a known customer. Rows that
/// give the same columns share one statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Given {
    name: bool,
    email: bool,
    provider_customer_ref: bool,
    provider_payment_method_ref: bool,
}

impl Given {
    fn of(c: &CustomerUpsert) -> Self {
        Self {
            name: c.name.is_some(),
            email: c.email.is_some(),
            provider_customer_ref: c.provider_customer_ref.is_some(),
            provider_payment_method_ref: c.provider_payment_method_ref.is_some(),
        }
    }
}

/// The changes a PATCH makes (`None`: leave as is; `Some(None)`: clear).
#[derive(AsChangeset)]
#[diesel(table_name = customers)]
struct CustomerChangeset<'a> {
    currency: Option<&'static str>,
    name: Option<Option<&'a str>>,
    email: Option<Option<&'a str>>,
    provider_customer_ref: Option<Option<&'a str>>,
    provider_payment_method_ref: Option<Option<&'a str>>,
}

fn parse(row: CustomerRow) -> QueryResult<Customer> {
    Customer::try_from(row).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))
}

/// What a keyed create found or made, before it is turned into domain values.
enum Made {
    Created(CustomerRow),
    Existing(CustomerRow),
    Replayed(CustomerRow),
    KeyReused,
}

/// Creates `customer` (see `CustomerStore::create_customer`).
pub(crate) async fn create_customer(
    db: &Database,
    customer: &NewCustomer,
    keyed: Option<KeyedRequest>,
    now: DateTime<Utc>,
) -> Result<Creation<Customer>, StoreError> {
    let customer = customer.clone();
    let now = to_db(now);
    let made = db
        .run(move |pools| {
            write_txn!(pools, |c| {
                match claim_key!(c, KEY_SCOPE, keyed.as_ref(), now)? {
                    KeyState::Fresh => {}
                    KeyState::Replay(id) => {
                        let row = customers::table.find(id).select(CustomerRow::as_select());
                        return Ok(Made::Replayed(row.first(c)?));
                    }
                    KeyState::Reused => return Ok(Made::KeyReused),
                }
                let inserted = diesel::insert_into(customers::table)
                    .values(NewCustomerRow::from(&customer))
                    .on_conflict(customers::external_id)
                    .do_nothing()
                    .returning(CustomerRow::as_returning())
                    .get_result(c)
                    .optional()?;
                let made = match inserted {
                    Some(row) => Made::Created(row),
                    None => {
                        let external = customer.external_id.as_ref().map(|e| e.as_str());
                        Made::Existing(
                            customers::table
                                .filter(customers::external_id.eq(external))
                                .select(CustomerRow::as_select())
                                .first(c)?,
                        )
                    }
                };
                let id = match &made {
                    Made::Created(row) | Made::Existing(row) | Made::Replayed(row) => row.id,
                    Made::KeyReused => 0,
                };
                bind_key!(c, KEY_SCOPE, keyed.as_ref(), id);
                Ok(made)
            })
        })
        .await?;
    Ok(match made {
        Made::Created(row) => Creation::Created(Customer::try_from(row)?),
        Made::Existing(row) => Creation::Existing(Customer::try_from(row)?),
        Made::Replayed(row) => Creation::Replayed(Customer::try_from(row)?),
        Made::KeyReused => Creation::KeyReused,
    })
}

/// Updates customer `id` (see `CustomerStore::update_customer`).
pub(crate) async fn update_customer(
    db: &Database,
    id: CustomerId,
    changes: &CustomerChanges,
) -> Result<CustomerUpdate, StoreError> {
    let changes = changes.clone();
    db.run(move |pools| {
        write_txn!(pools, |c| {
            LockCustomers::lock_customer(c, id.get())?;
            let Some(current) = customers::table
                .find(id.get())
                .select(CustomerRow::as_select())
                .first(c)
                .optional()?
            else {
                return Ok(CustomerUpdate::NotFound);
            };
            let current = parse(current)?;
            let currency = changes.currency.filter(|c| *c != current.currency);
            if currency.is_some() {
                let invoiced = diesel::select(diesel::dsl::exists(
                    invoices::table.filter(invoices::customer_id.eq(id.get())),
                ))
                .get_result::<bool>(c)?;
                if invoiced {
                    return Ok(CustomerUpdate::CurrencyLocked(current));
                }
            }
            fn text(change: &Option<Option<String>>) -> Option<Option<&str>> {
                change.as_ref().map(|v| v.as_deref())
            }
            if currency.is_none()
                && changes.name.is_none()
                && changes.email.is_none()
                && changes.provider_customer_ref.is_none()
                && changes.provider_payment_method_ref.is_none()
            {
                return Ok(CustomerUpdate::Updated(current));
            }
            let changeset = CustomerChangeset {
                currency: currency.map(|c| c.as_str()),
                name: text(&changes.name),
                email: text(&changes.email),
                provider_customer_ref: text(&changes.provider_customer_ref),
                provider_payment_method_ref: text(&changes.provider_payment_method_ref),
            };
            let row = diesel::update(customers::table.find(id.get()))
                .set(changeset)
                .returning(CustomerRow::as_returning())
                .get_result(c)?;
            Ok(CustomerUpdate::Updated(parse(row)?))
        })
    })
    .await
}

/// Creates or updates customers by external id (see `CustomerStore::upsert_customers`).
pub(crate) async fn upsert_customers(
    db: &Database,
    customers_in: &[CustomerUpsert],
) -> Result<Vec<Upserted<Customer>>, StoreError> {
    let batch = customers_in.to_vec();
    let rollback = db.dry_run;
    let rows: Vec<Upserted<CustomerRow>> = db
        .run(move |pools| {
            write_txn_or_dry_run!(pools, rollback, |c| {
                let mut out: Vec<Option<Upserted<CustomerRow>>> =
                    (0..batch.len()).map(|_| None).collect();
                // A file may name an external id twice: the last row wins, and the earlier
                // ones answer as it does.
                let mut last: HashMap<&str, usize> = HashMap::new();
                for (i, customer) in batch.iter().enumerate() {
                    if let Some(external) = &customer.external_id {
                        last.insert(external.as_str(), i);
                    }
                }
                let keyed: Vec<usize> = {
                    let mut v: Vec<usize> = last.values().copied().collect();
                    v.sort_unstable();
                    v
                };
                for chunk in keyed.chunks(ROWS_PER_STATEMENT) {
                    let externals: Vec<&str> = chunk
                        .iter()
                        .filter_map(|i| batch[*i].external_id.as_ref().map(|e| e.as_str()))
                        .collect();
                    let mut known: HashMap<String, CustomerRow> = customers::table
                        .filter(customers::external_id.eq_any(&externals))
                        .select(CustomerRow::as_select())
                        .load::<CustomerRow>(c)?
                        .into_iter()
                        .filter_map(|row| row.external_id.clone().map(|e| (e, row)))
                        .collect();
                    // A known customer takes the fields its row gives, but never a currency
                    // of another: that row is left alone (and reported).
                    let (writes, conflicts): (Vec<usize>, Vec<usize>) =
                        chunk.iter().copied().partition(|i| {
                            let customer = &batch[*i];
                            let external = customer.external_id.as_ref().map(|e| e.as_str());
                            external
                                .and_then(|e| known.get(e))
                                .is_none_or(|row| row.currency == customer.currency.as_str())
                        });
                    for i in conflicts {
                        let external = batch[i].external_id.as_ref().map(|e| e.as_str());
                        if let Some(row) = external.and_then(|e| known.remove(e)) {
                            out[i] = Some(Upserted::Unchanged(row));
                        }
                    }
                    // One statement per set of columns given (a CSV file has one).
                    let mut by_given: BTreeMap<Given, Vec<usize>> = BTreeMap::new();
                    for &i in &writes {
                        by_given.entry(Given::of(&batch[i])).or_default().push(i);
                    }
                    let mut by_external: HashMap<String, CustomerRow> = HashMap::new();
                    for (given, rows) in by_given {
                        let values: Vec<NewCustomerRow> = rows
                            .iter()
                            .map(|i| NewCustomerRow::from(&batch[*i]))
                            .collect();
                        // The external id is set to itself so that the set is never empty
                        // (a row that gives no optional column still answers its customer).
                        let written: Vec<CustomerRow> = diesel::insert_into(customers::table)
                            .values(values)
                            .on_conflict(customers::external_id)
                            .do_update()
                            .set((
                                customers::external_id.eq(excluded(customers::external_id)),
                                given
                                    .name
                                    .then(|| customers::name.eq(excluded(customers::name))),
                                given
                                    .email
                                    .then(|| customers::email.eq(excluded(customers::email))),
                                given.provider_customer_ref.then(|| {
                                    customers::provider_customer_ref
                                        .eq(excluded(customers::provider_customer_ref))
                                }),
                                given.provider_payment_method_ref.then(|| {
                                    customers::provider_payment_method_ref
                                        .eq(excluded(customers::provider_payment_method_ref))
                                }),
                            ))
                            .returning(CustomerRow::as_returning())
                            .get_results(c)?;
                        by_external.extend(
                            written
                                .into_iter()
                                .filter_map(|row| row.external_id.clone().map(|e| (e, row))),
                        );
                    }
                    for i in writes {
                        let external = batch[i].external_id.as_ref().map(|e| e.as_str());
                        if let Some(row) = external.and_then(|e| by_external.remove(e)) {
                            out[i] = Some(match external.and_then(|e| known.get(e)) {
                                None => Upserted::Created(row),
                                Some(before) if *before != row => Upserted::Updated(row),
                                Some(_) => Upserted::Unchanged(row),
                            });
                        }
                    }
                }
                for (i, customer) in batch.iter().enumerate() {
                    match &customer.external_id {
                        None => {
                            let row = diesel::insert_into(customers::table)
                                .values(NewCustomerRow::from(customer))
                                .returning(CustomerRow::as_returning())
                                .get_result(c)?;
                            out[i] = Some(Upserted::Created(row));
                        }
                        Some(external) if out[i].is_none() => {
                            let winner = last[external.as_str()];
                            let row = customers::table
                                .find(out[winner].as_ref().map_or(0, |r| r.get().id))
                                .select(CustomerRow::as_select())
                                .first(c)?;
                            out[i] = Some(Upserted::Unchanged(row));
                        }
                        Some(_) => {}
                    }
                }
                let answers = out
                    .into_iter()
                    .enumerate()
                    .map(|(i, outcome)| {
                        outcome.ok_or_else(|| {
                            diesel::result::Error::DeserializationError(
                                format!("the upsert left row {i} without an outcome").into(),
                            )
                        })
                    })
                    .collect::<QueryResult<Vec<_>>>()?;
                QueryResult::Ok(answers)
            })
        })
        .await?;
    rows.into_iter()
        .map(|row| row.try_map(Customer::try_from))
        .collect()
}
