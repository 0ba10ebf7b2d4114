//! Initial data, by the original Antaeus rule: each customer gets a random currency and
//! invoices of 10 to 500 in it; the first invoice is PENDING and the rest PAID.
//!
//! Seeding streams: customers go in batches, invoices in batches of at most
//! [`INVOICES_PER_BATCH`], so memory stays flat however many are asked for.

use std::time::{Duration, Instant};

use antaeus_core::store::StoreError;
use antaeus_data::{Database, NewInvoice};
use antaeus_models::{Currency, InvoiceStatus, Money};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The original data set: 100 customers with 10 invoices each.
pub const ORIGINAL_CUSTOMERS: u64 = 100;
/// See [`ORIGINAL_CUSTOMERS`].
pub const ORIGINAL_INVOICES_PER_CUSTOMER: u64 = 10;

const CUSTOMERS_PER_BATCH: u64 = 1_000;
const INVOICES_PER_BATCH: usize = 20_000;
/// Invoice amounts, in cents: 10.00 to 500.00.
const AMOUNT_CENTS: std::ops::RangeInclusive<i64> = 1_000..=50_000;

/// What to seed.
#[derive(Debug, Clone, Copy)]
pub struct SeedPlan {
    /// How many customers to add.
    pub customers: u64,
    /// How many invoices each customer gets.
    pub invoices_per_customer: u64,
    /// Seed of the random generator; the same seed gives the same data on a fresh database.
    pub seed: u64,
    /// Every invoice PENDING (for benchmarks), instead of the original rule.
    pub all_pending: bool,
    /// When the invoices fall due (the demo data: now, when it is made); `None`: no due date,
    /// charged by the next run whatever its clock (benchmarks, tests).
    pub due_at: Option<DateTime<Utc>>,
}

/// What seeding did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Customers added.
    pub customers: u64,
    /// Invoices added.
    pub invoices: u64,
    /// How long it took.
    pub elapsed: Duration,
}

/// Adds the plan's customers and invoices to `db`.
pub async fn seed(db: &Database, plan: SeedPlan) -> Result<SeedReport, StoreError> {
    seed_observed(db, plan, |_| {}).await
}

/// [`seed`], telling `observe` what is done so far after each batch of customers.
pub async fn seed_observed(
    db: &Database,
    plan: SeedPlan,
    mut observe: impl FnMut(&SeedReport),
) -> Result<SeedReport, StoreError> {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let mut report = SeedReport {
        customers: 0,
        invoices: 0,
        elapsed: Duration::ZERO,
    };
    let mut pending: Vec<NewInvoice> = Vec::with_capacity(INVOICES_PER_BATCH);
    while report.customers < plan.customers {
        let batch = CUSTOMERS_PER_BATCH.min(plan.customers - report.customers);
        let currencies = (0..batch)
            .map(|_| Currency::ALL[rng.random_range(0..Currency::ALL.len())])
            .collect();
        let customers = db.insert_customers(currencies).await?;
        report.customers += customers.len() as u64;
        for customer in &customers {
            for n in 0..plan.invoices_per_customer {
                let cents = rng.random_range(AMOUNT_CENTS);
                pending.push(NewInvoice {
                    customer_id: customer.id,
                    amount: Money::from_minor(cents, customer.currency)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    status: if n == 0 || plan.all_pending {
                        InvoiceStatus::Pending
                    } else {
                        InvoiceStatus::Paid
                    },
                });
                if pending.len() == INVOICES_PER_BATCH {
                    report.invoices += flush(db, &mut pending, plan.due_at).await?;
                }
            }
        }
        report.invoices += flush(db, &mut pending, plan.due_at).await?;
        report.elapsed = started.elapsed();
        observe(&report);
        log::debug!(
            "seeded {} customers, {} invoices",
            report.customers,
            report.invoices
        );
    }
    db.refresh_statistics().await?;
    report.elapsed = started.elapsed();
    Ok(report)
}

async fn flush(
    db: &Database,
    pending: &mut Vec<NewInvoice>,
    due_at: Option<DateTime<Utc>>,
) -> Result<u64, StoreError> {
    if pending.is_empty() {
        return Ok(0);
    }
    let batch = std::mem::replace(pending, Vec::with_capacity(INVOICES_PER_BATCH));
    // No due time: the zero time, as `Database::insert_invoices` gives.
    let due_at = due_at.unwrap_or(DateTime::UNIX_EPOCH);
    let inserted = db.insert_invoices_due(batch, due_at).await?;
    Ok(inserted as u64)
}

#[cfg(test)]
mod tests {
    use antaeus_core::store::{CustomerStore, InvoiceStore};
    use antaeus_data::testing::TestDatabase;
    use antaeus_models::{InvoiceFilter, PageRequest};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn follows_the_original_rule() {
        let t = TestDatabase::sqlite().await;
        let plan = SeedPlan {
            customers: 7,
            invoices_per_customer: 3,
            seed: 1,
            all_pending: false,
            due_at: None,
        };
        let report = seed(&t.db, plan).await.unwrap();
        assert_eq!((report.customers, report.invoices), (7, 21));

        let customers = t.db.list_customers(PageRequest::default()).await.unwrap();
        assert_eq!(customers.len(), 7);
        for c in customers {
            let invoices =
                t.db.list_invoices(
                    InvoiceFilter {
                        customer_id: Some(c.id),
                        ..InvoiceFilter::default()
                    },
                    PageRequest::default(),
                )
                .await
                .unwrap();
            let statuses: Vec<_> = invoices.iter().map(|i| i.status).collect();
            assert_eq!(
                statuses,
                [
                    InvoiceStatus::Pending,
                    InvoiceStatus::Paid,
                    InvoiceStatus::Paid
                ]
            );
            for i in invoices {
                assert_eq!(
                    i.amount.currency(),
                    c.currency,
                    "invoice in the customer's currency"
                );
                assert!(AMOUNT_CENTS.contains(&i.amount.to_minor()), "{}", i.amount);
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn progress_is_told_after_each_batch_of_customers() {
        let t = TestDatabase::sqlite().await;
        let plan = SeedPlan {
            customers: CUSTOMERS_PER_BATCH + 5,
            invoices_per_customer: 2,
            seed: 3,
            all_pending: false,
            due_at: None,
        };
        let mut seen = Vec::new();
        let report = seed_observed(&t.db, plan, |r| seen.push((r.customers, r.invoices)))
            .await
            .unwrap();
        assert_eq!(
            seen,
            [
                (CUSTOMERS_PER_BATCH, 2 * CUSTOMERS_PER_BATCH),
                (report.customers, report.invoices)
            ]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_invoice_per_customer_gives_only_pending_invoices() {
        let t = TestDatabase::sqlite().await;
        let plan = SeedPlan {
            customers: 1_500,
            invoices_per_customer: 1,
            seed: 2,
            all_pending: false,
            due_at: None,
        };
        seed(&t.db, plan).await.unwrap();
        let paid =
            t.db.list_invoices(
                InvoiceFilter {
                    status: Some(InvoiceStatus::Paid),
                    ..InvoiceFilter::default()
                },
                PageRequest::default(),
            )
            .await
            .unwrap();
        assert!(paid.is_empty());
        let all =
            t.db.list_invoices(InvoiceFilter::default(), PageRequest::default())
                .await
                .unwrap();
        assert_eq!(all.len(), 1_000, "a full first page of PENDING invoices");
    }
}
