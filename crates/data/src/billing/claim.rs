//! Claiming due and stale invoices, with the intent of each call, in one transaction.
//!
//! PostgreSQL locks the candidate rows with `FOR UPDATE SKIP LOCKED`, so concurrent claimers
//! share the table without waiting on each other; SQLite runs the whole claim inside one
//! `BEGIN IMMEDIATE` transaction, which admits one writer at a time.

use antaeus_core::billing::{ChargeState, charge_key};
use antaeus_core::store::{ClaimRequest, ClaimedInvoice, PlannedAttempt, StoreError};
use antaeus_models::{Currency, InstanceId, Invoice, InvoiceStatus, ProviderRefs, RunScope};
use diesel::prelude::*;
use diesel::result::Error as DieselError;

use super::inserts::InsertAttempts;
use super::rows::{ClaimRow, NewAttemptRow};
use crate::error::{pool_unavailable, store_error};
use crate::pool::Pools;
use crate::rows::{corrupt, count, text};
use crate::schema::{billing_runs, charge_attempts, customers, instances, invoices};
use crate::store_clock::StoreClock;
use crate::time::to_db;

/// The statements that pick the ids to claim, per backend. Each names the status as a literal
/// so that the partial indexes on PostgreSQL (and the named index on SQLite, which plans
/// without statistics) serve it. Binds: stale (instance, heartbeat cutoff, limit), retry (now,
/// limit), fresh (cursor, limit).
struct CandidateSql {
    stale: &'static str,
    retry: &'static str,
    fresh: &'static str,
}

/// SQLite: the claim runs in `BEGIN IMMEDIATE`, which already excludes other writers.
const SQLITE_CANDIDATES: CandidateSql = CandidateSql {
    stale: "SELECT id FROM invoices INDEXED BY invoices_due \
            WHERE status = 'CHARGING' AND claimed_by <> ? AND NOT EXISTS ( \
                SELECT 1 FROM instances WHERE instances.id = invoices.claimed_by \
                AND instances.heartbeat_at >= ?) \
            ORDER BY id LIMIT ?",
    retry: "SELECT id FROM invoices INDEXED BY invoices_due \
            WHERE status = 'PENDING' AND next_attempt_at <= ? \
            ORDER BY next_attempt_at, id LIMIT ?",
    fresh: "SELECT id FROM invoices INDEXED BY invoices_due \
            WHERE status = 'PENDING' AND next_attempt_at IS NULL AND id > ? AND due_at <= ? \
            ORDER BY id LIMIT ?",
};

/// PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent claimers pass each other's rows by.
const POSTGRES_CANDIDATES: CandidateSql = CandidateSql {
    stale: "SELECT id FROM invoices \
            WHERE status = 'CHARGING' AND claimed_by <> $1 AND NOT EXISTS ( \
                SELECT 1 FROM instances WHERE instances.id = invoices.claimed_by \
                AND instances.heartbeat_at >= $2) \
            ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED",
    retry: "SELECT id FROM invoices \
            WHERE status = 'PENDING' AND next_attempt_at IS NOT NULL AND next_attempt_at <= $1 \
            ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
    fresh: "SELECT id FROM invoices \
            WHERE status = 'PENDING' AND next_attempt_at IS NULL AND id > $1 AND due_at <= $2 \
            ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED",
};

/// Picks the ids to claim with `$sql` (a [`CandidateSql`]): stale claims first, then retries
/// that are due, then invoices never tried, up to the limit. Never our own claims: those are in
/// flight here (a slow heartbeat must not make an instance race itself).
macro_rules! candidate_ids {
    ($c:ident, $req:ident, $sql:expr, $cutoff:expr) => {{
        use diesel::sql_types::{BigInt, Text, Timestamp};
        let sql: &CandidateSql = &$sql;
        let limit = i64::from($req.limit);
        let mut ids: Vec<i64> = Vec::new();
        if let Some(cutoff) = $cutoff {
            ids.extend(
                diesel::sql_query(sql.stale)
                    .bind::<Text, _>($req.instance.as_str())
                    .bind::<Timestamp, _>(cutoff)
                    .bind::<BigInt, _>(limit)
                    .load::<CandidateId>($c)?
                    .into_iter()
                    .map(|r| r.id),
            );
        }
        if (ids.len() as i64) < limit {
            ids.extend(
                diesel::sql_query(sql.retry)
                    .bind::<Timestamp, _>(to_db($req.now))
                    .bind::<BigInt, _>(limit - ids.len() as i64)
                    .load::<CandidateId>($c)?
                    .into_iter()
                    .map(|r| r.id),
            );
        }
        for after in fresh_cursors($req) {
            if (ids.len() as i64) >= limit {
                break;
            }
            ids.extend(
                diesel::sql_query(sql.fresh)
                    .bind::<BigInt, _>(after)
                    .bind::<Timestamp, _>(to_db($req.now))
                    .bind::<BigInt, _>(limit - ids.len() as i64)
                    .load::<CandidateId>($c)?
                    .into_iter()
                    .map(|r| r.id),
            );
        }
        ids
    }};
}

/// The whole claim on one backend; evaluates to `QueryResult<Vec<ClaimedInvoice>>`.
macro_rules! claim_in_transaction {
    ($c:ident, $req:ident, $candidates:expr, $namespace:expr) => {{
        // Heartbeats are judged by the store's clock, as they were written, and so is the age
        // of a key (when it was first sent).
        let store_now = StoreClock::store_now($c)?;
        let lease = $req.lease_timeout;
        let cutoff = $req.include_stale.then(|| store_now - lease);
        let ids = candidate_ids!($c, $req, $candidates, cutoff);
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Re-read the locked rows, and their owners' heartbeats, with fresh statements: under
        // PostgreSQL's READ COMMITTED, a row locked after a concurrent claim committed was
        // re-checked against this statement's older snapshot of `instances`, in which the new
        // owner may not have heartbeated yet. Whatever is not still due or stale is left alone.
        let rows: Vec<(ClaimRow, CustomerOfClaim)> = invoices::table
            .inner_join(customers::table)
            .filter(invoices::id.eq_any(&ids))
            .order(invoices::id.asc())
            .select((ClaimRow::as_select(), CustomerOfClaim::as_select()))
            .load($c)?;
        let owners: Vec<&str> = rows
            .iter()
            .filter_map(|(row, _)| row.claimed_by.as_deref())
            .collect();
        let live: Vec<String> = if owners.is_empty() {
            Vec::new()
        } else {
            instances::table
                .filter(instances::id.eq_any(&owners))
                .filter(instances::heartbeat_at.ge(store_now - lease))
                .select(instances::id)
                .load($c)?
        };
        let now = to_db($req.now);
        let claimed = rows
            .into_iter()
            .filter(
                |(row, _)| match (row.invoice.status.as_str(), row.claimed_by.as_deref()) {
                    ("PENDING", _) => match row.invoice.next_attempt_at {
                        Some(at) => at <= now,
                        None => $req.scope == RunScope::All && row.invoice.due_at <= now,
                    },
                    ("CHARGING", Some(owner)) => {
                        owner != $req.instance.as_str() && !live.iter().any(|l| l == owner)
                    }
                    _ => false,
                },
            )
            .map(|(row, customer)| {
                let clocks = Clocks {
                    store_now,
                    claimer_now: $req.now,
                };
                to_claimed(row, customer, $req.require_customer_ref, $namespace, clocks)
            })
            .collect::<Result<Vec<_>, StoreError>>()
            .map_err(|e| DieselError::DeserializationError(Box::new(e)))?;
        let mut claimed = claimed;
        let never_sent = recall_keys!($c, &mut claimed);
        write_claims!($c, $req, &claimed, $namespace, store_now, &never_sent);
        Ok(claimed)
    }};
}

/// For claims that resend a key sent before (a takeover, a later run after an unknown
/// outcome): the customer's references as the key's first call sent them (every resend sends
/// exactly those), and the provider's reference for the charge if a call learnt it. Read before
/// this claim's intents are written; claims of a key never sent skip it.
macro_rules! recall_keys {
    ($c:ident, $claimed:expr) => {{
        let claimed: &mut Vec<ClaimedInvoice> = $claimed;
        let mut never_sent: Vec<i64> = Vec::new();
        let resent: Vec<i64> = claimed
            .iter()
            .filter(|c| c.attempt.is_some() && c.key_first_sent_at.is_some())
            .map(|c| c.invoice.id.get())
            .collect();
        if !resent.is_empty() {
            let calls: Vec<SentCall> = charge_attempts::table
                .filter(charge_attempts::invoice_id.eq_any(&resent))
                .select(SentCall::as_select())
                .order((charge_attempts::invoice_id, charge_attempts::attempt_number))
                .load($c)?;
            for c in claimed.iter_mut() {
                let Some(key) = c.attempt.as_ref().map(|a| a.key.to_string()) else {
                    continue;
                };
                let mut pinned = None;
                let mut sent = false;
                for call in calls.iter().filter(|call| {
                    call.invoice_id == c.invoice.id.get() && call.idempotency_key == key
                }) {
                    sent = true;
                    if pinned.is_none()
                        && (call.customer_ref.is_some() || call.payment_method_ref.is_some())
                    {
                        pinned = Some(ProviderRefs {
                            customer_ref: call.customer_ref.clone(),
                            payment_method_ref: call.payment_method_ref.clone(),
                        });
                    }
                    if call.provider_ref.is_some() {
                        c.provider_ref.clone_from(&call.provider_ref);
                    }
                }
                if let Some(pinned) = pinned {
                    c.customer = pinned;
                }
                if !sent {
                    // Claimed before, but released unsent (its intent removed): the key was
                    // never sent, and this claim is its first call.
                    c.key_first_sent_at = None;
                    never_sent.push(c.invoice.id.get());
                }
            }
        }
        never_sent
    }};
}

/// A call made under a key, as a resend of the key needs it.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = charge_attempts, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct SentCall {
    invoice_id: i64,
    idempotency_key: String,
    provider_ref: Option<String>,
    customer_ref: Option<String>,
    payment_method_ref: Option<String>,
}

/// The two clocks a claim reads times on.
#[derive(Debug, Clone, Copy)]
struct Clocks {
    /// The store's, which judges how old a key is.
    store_now: chrono::NaiveDateTime,
    /// The claimer's, on which the claimed invoice's times are given.
    claimer_now: chrono::DateTime<chrono::Utc>,
}

/// The claimed invoice's customer: its currency and provider references.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = customers, check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct CustomerOfClaim {
    currency: String,
    provider_customer_ref: Option<String>,
    provider_payment_method_ref: Option<String>,
}

/// Marks the rows CHARGING for the instance, records the unfinished calls of taken-over claims
/// as abandoned, writes the intent rows, and counts the claims on the run.
macro_rules! write_claims {
    ($c:ident, $req:ident, $claimed:expr, $namespace:expr, $store_now:expr, $never_sent:expr) => {{
        let claimed: &[ClaimedInvoice] = $claimed;
        let namespace: &str = $namespace;
        let now = to_db($req.now);
        let owner = $req.instance.as_str();
        let ids_where = |pick: &dyn Fn(&ClaimedInvoice) -> bool| -> Vec<i64> {
            claimed
                .iter()
                .filter(|c| pick(c))
                .map(|c| c.invoice.id.get())
                .collect()
        };
        let stale_ids = ids_where(&|c| c.taken_over_from.is_some());
        let send_ids = ids_where(&|c| c.attempt.is_some());
        let hold_ids = ids_where(&|c| c.attempt.is_none());
        // Claims this run made before (under an earlier instance of the run, since resumed)
        // and never finished: counted once, not again on takeover.
        let mut claimed_before = 0_i64;
        if !stale_ids.is_empty() {
            let runs: Vec<Option<i64>> = diesel::update(
                charge_attempts::table
                    .filter(charge_attempts::invoice_id.eq_any(&stale_ids))
                    .filter(charge_attempts::outcome.is_null()),
            )
            .set((
                charge_attempts::outcome.eq("abandoned"),
                charge_attempts::finished_at.eq(now),
                charge_attempts::message.eq(format!(
                    "its instance stopped heartbeating; {owner} resent the same key"
                )),
            ))
            .returning(charge_attempts::run_id)
            .get_results($c)?;
            claimed_before = runs.iter().filter(|r| **r == Some($req.run.get())).count() as i64;
        }
        if !send_ids.is_empty() {
            // A key sent for the first time is sent in this deployment's namespace, now by the
            // store's clock; a key sent before keeps both until it advances.
            // A key claimed before but released unsent is first sent now.
            let never_sent: &[i64] = $never_sent;
            if !never_sent.is_empty() {
                diesel::update(invoices::table.filter(invoices::id.eq_any(never_sent)))
                    .set(invoices::key_sent_at.eq($store_now))
                    .execute($c)?;
            }
            diesel::update(invoices::table.filter(invoices::id.eq_any(&send_ids)))
                .set((
                    invoices::status.eq("CHARGING"),
                    invoices::claimed_by.eq(owner),
                    invoices::claimed_at.eq(now),
                    invoices::attempts.eq(invoices::attempts + 1),
                    invoices::fence.eq(invoices::fence + 1),
                    invoices::key_ns.eq(diesel::dsl::sql::<
                        diesel::sql_types::Nullable<diesel::sql_types::Text>,
                    >("COALESCE(key_ns, ")
                    .bind::<diesel::sql_types::Text, _>(namespace)
                    .sql(")")),
                    invoices::key_sent_at.eq(diesel::dsl::sql::<
                        diesel::sql_types::Nullable<diesel::sql_types::Timestamp>,
                    >("COALESCE(key_sent_at, ")
                    .bind::<diesel::sql_types::Timestamp, _>($store_now)
                    .sql(")")),
                ))
                .execute($c)?;
            let intents: Vec<NewAttemptRow> = claimed
                .iter()
                .filter_map(|c| c.attempt.as_ref().map(|a| (c, a)))
                .map(|(c, attempt)| {
                    // The first call under a key records the references it sends.
                    let first = c.key_first_sent_at.is_none();
                    NewAttemptRow {
                        invoice_id: c.invoice.id.get(),
                        run_id: Some($req.run.get()),
                        attempt_number: crate::rows::stored(attempt.number),
                        idempotency_key: attempt.key.to_string(),
                        instance_id: owner.to_owned(),
                        started_at: now,
                        customer_ref: c.customer.customer_ref.clone().filter(|_| first),
                        payment_method_ref: c.customer.payment_method_ref.clone().filter(|_| first),
                    }
                })
                .collect();
            InsertAttempts::insert_attempts($c, &intents)?;
        }
        if !hold_ids.is_empty() {
            diesel::update(invoices::table.filter(invoices::id.eq_any(&hold_ids)))
                .set((
                    invoices::status.eq("CHARGING"),
                    invoices::claimed_by.eq(owner),
                    invoices::claimed_at.eq(now),
                    invoices::fence.eq(invoices::fence + 1),
                ))
                .execute($c)?;
        }
        diesel::update(billing_runs::table.find($req.run.get()))
            .set(
                billing_runs::claimed
                    .eq(billing_runs::claimed + claimed.len() as i64 - claimed_before),
            )
            .execute($c)?;
    }};
}

/// Where to look for never-tried invoices: after the run's cursor, then from the start; nowhere
/// for a run of scheduled retries only.
fn fresh_cursors(req: &ClaimRequest) -> Vec<i64> {
    match (req.scope, req.fresh_after) {
        (RunScope::Retries, _) => Vec::new(),
        (RunScope::All, Some(after)) => vec![after.get(), 0],
        (RunScope::All, None) => vec![0],
    }
}

#[derive(diesel::QueryableByName)]
struct CandidateId {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Claims invoices for `request`, with keys in the deployment `namespace` (see
/// `BillingStore::claim`).
pub(crate) fn claim(
    pools: &Pools,
    request: &ClaimRequest,
    namespace: &str,
) -> Result<Vec<ClaimedInvoice>, StoreError> {
    let result = match pools {
        Pools::Sqlite(pool) => pool.immediate(|c| -> QueryResult<Vec<ClaimedInvoice>> {
            claim_in_transaction!(c, request, SQLITE_CANDIDATES, namespace)
        })?,
        Pools::Postgres(pool) => {
            let mut pooled = pool.get().map_err(pool_unavailable)?;
            let conn: &mut diesel::PgConnection = &mut pooled;
            conn.transaction(|c| -> QueryResult<Vec<ClaimedInvoice>> {
                // Every statement of a claim finds its rows through an index (the candidates
                // through the partial ones, the rest by key): statistics that lag behind a run
                // must not turn one into a scan of the table.
                diesel::sql_query("SET LOCAL enable_seqscan = off").execute(c)?;
                claim_in_transaction!(c, request, POSTGRES_CANDIDATES, namespace)
            })
        }
    };
    result.map_err(|err| match err {
        DieselError::DeserializationError(inner) => match inner.downcast::<StoreError>() {
            Ok(store) => *store,
            Err(other) => store_error(DieselError::DeserializationError(other)),
        },
        other => store_error(other),
    })
}

/// The invoice as claimed: CHARGING, its fence advanced, and with the attempt it will make
/// when it can be sent: its currency is its customer's, and the customer has a provider
/// reference if `require_customer_ref`, or the key was sent before and its outcome is unknown
/// (a resend sends the references the key was first sent with, and an invoice whose charge may
/// have gone through is never failed for a reference removed since). The attempt number is the
/// current count plus one; the key is unchanged since the last definitive decision (so a
/// taken-over claim resends the same key), in the namespace it was first sent in, else in
/// `namespace`.
fn to_claimed(
    row: ClaimRow,
    customer: CustomerOfClaim,
    require_customer_ref: bool,
    namespace: &str,
    clocks: Clocks,
) -> Result<ClaimedInvoice, StoreError> {
    let id = row.invoice.id;
    let bad = |e: String| corrupt("invoices", id, e);
    let customer_currency: Currency = customer.currency.parse().map_err(text).map_err(bad)?;
    let refs = ProviderRefs {
        customer_ref: customer.provider_customer_ref,
        payment_method_ref: customer.provider_payment_method_ref,
    };
    let state = ChargeState {
        key_seq: count(row.key_seq).map_err(bad)?,
        declines: count(row.declines).map_err(bad)?,
        unknown_streak: count(row.unknown_streak).map_err(bad)?,
    };
    let taken_over_from = row
        .claimed_by
        .as_deref()
        .map(InstanceId::parse)
        .transpose()
        .map_err(text)
        .map_err(bad)?;
    let outcome_unknown = state.unknown_streak > 0 || taken_over_from.is_some();
    let sendable = !require_customer_ref || refs.customer_ref.is_some() || outcome_unknown;
    let fence = count::<u32>(row.fence).map_err(bad)?.saturating_add(1);
    let key_namespace = row.key_ns.unwrap_or_else(|| namespace.to_owned());
    // The key's age by the store's clock, given on the claimer's.
    let key_first_sent_at = row
        .key_sent_at
        .map(|sent| clocks.claimer_now - (clocks.store_now - sent));
    let mut invoice = Invoice::try_from(row.invoice)?;
    invoice.status = InvoiceStatus::Charging;
    let attempt = (sendable && invoice.amount.currency() == customer_currency).then(|| {
        invoice.attempts += 1;
        PlannedAttempt {
            number: invoice.attempts,
            key: charge_key(&key_namespace, invoice.id, state.key_seq),
        }
    });
    Ok(ClaimedInvoice {
        invoice,
        customer_currency,
        state,
        attempt,
        taken_over_from,
        fence,
        customer: refs,
        namespace: Some(key_namespace).filter(|ns| !ns.is_empty()),
        key_first_sent_at,
        provider_ref: None,
        open_intent: row.open_intent,
    })
}
