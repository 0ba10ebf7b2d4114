//! [`InvoiceStore`] on SQLite and PostgreSQL.

use antaeus_core::store::{
    InvoiceCreation, InvoiceDraft, InvoiceStore, KeyedRequest, RetryOutcome, StoreError,
    VoidOutcome,
};
use antaeus_models::{DueFilter, Invoice, InvoiceFilter, InvoiceId, InvoiceStatus, PageRequest};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::error::store_error;
use crate::rows::InvoiceRow;
use crate::schema::invoices;
use crate::stats::{StatsDelta, apply_stats};
use crate::status_filter::{dispute_is, double_charged, status_is};
use crate::time::to_db;

#[async_trait]
impl InvoiceStore for Database {
    async fn fetch_invoice(&self, id: InvoiceId) -> Result<Option<Invoice>, StoreError> {
        let row = self
            .run(move |pools| {
                with_conn!(pools, |c| invoices::table
                    .find(id.get())
                    .select(InvoiceRow::as_select())
                    .first(c)
                    .optional()
                    .map_err(store_error))
            })
            .await?;
        row.map(Invoice::try_from).transpose()
    }

    async fn list_invoices(
        &self,
        filter: InvoiceFilter,
        page: PageRequest<InvoiceId>,
    ) -> Result<Vec<Invoice>, StoreError> {
        let after = page.after.map_or(0, InvoiceId::get);
        let limit = i64::from(page.limit.get());
        let rows = self
            .run(move |pools| {
                with_conn!(pools, |c| {
                    let mut query = invoices::table
                        .filter(invoices::id.gt(after))
                        .order(invoices::id.asc())
                        .limit(limit)
                        .select(InvoiceRow::as_select())
                        .into_boxed();
                    if let Some(status) = filter.status {
                        query = query.filter(status_is(status));
                    }
                    if let Some(customer) = filter.customer_id {
                        query = query.filter(invoices::customer_id.eq(customer.get()));
                    }
                    if let Some(external) = &filter.external_id {
                        query = query.filter(invoices::external_id.eq(external.as_str()));
                    }
                    if let Some(last) = filter.up_to {
                        query = query.filter(invoices::id.le(last.get()));
                    }
                    if let Some(currency) = filter.currency {
                        query = query.filter(invoices::currency.eq(currency.as_str()));
                    }
                    if let Some(reason) = filter.failure_reason {
                        query = query.filter(invoices::failure_reason.eq(reason.as_str()));
                    }
                    if let Some(disputed) = filter.disputed {
                        query = query.filter(dispute_is(disputed));
                    }
                    if filter.double_charged {
                        query = query.filter(double_charged());
                    }
                    match filter.due {
                        None => {}
                        Some(DueFilter::DueAt(now)) => {
                            let now = to_db(now);
                            query = query.filter(status_is(InvoiceStatus::Pending)).filter(
                                invoices::next_attempt_at
                                    .is_null()
                                    .and(invoices::due_at.le(now))
                                    .or(invoices::next_attempt_at.le(now)),
                            );
                        }
                        Some(DueFilter::OverdueAt(now)) => {
                            query = query
                                .filter(
                                    status_is(InvoiceStatus::Pending)
                                        .or(status_is(InvoiceStatus::Failed)),
                                )
                                .filter(invoices::due_at.lt(to_db(now)));
                        }
                    }
                    query.load(c).map_err(store_error)
                })
            })
            .await?;
        rows.into_iter().map(Invoice::try_from).collect()
    }

    async fn retry_invoice(
        &self,
        id: InvoiceId,
        now: DateTime<Utc>,
    ) -> Result<RetryOutcome, StoreError> {
        let now = to_db(now);
        let (row, changed) = self
            .run(move |pools| {
                write_txn!(pools, |c| {
                    // Conditional updates: a claim racing with the retry either happens first
                    // (the row is CHARGING and nothing changes) or after.
                    let not_due_yet =
                        invoices::next_attempt_at
                            .gt(now)
                            .or(invoices::next_attempt_at
                                .is_null()
                                .and(invoices::due_at.gt(now)));
                    let change = || {
                        (
                            invoices::status.eq("PENDING"),
                            invoices::next_attempt_at.eq(Some(now)),
                            invoices::failure_reason.eq(None::<String>),
                        )
                    };
                    let failed = diesel::update(
                        invoices::table
                            .find(id.get())
                            .filter(invoices::status.eq("FAILED")),
                    )
                    .set(change())
                    .returning(InvoiceRow::as_returning())
                    .get_result(c)
                    .optional()?;
                    if let Some(row) = failed {
                        let amount = Invoice::try_from(row.clone())
                            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?
                            .amount;
                        let mut stats = StatsDelta::default();
                        stats.moved(InvoiceStatus::Failed, InvoiceStatus::Pending, amount);
                        apply_stats!(c, &stats)?;
                        return Ok((Some(row), true));
                    }
                    let rescheduled = diesel::update(
                        invoices::table
                            .find(id.get())
                            .filter(invoices::status.eq("PENDING"))
                            .filter(not_due_yet),
                    )
                    .set(change())
                    .returning(InvoiceRow::as_returning())
                    .get_result(c)
                    .optional()?;
                    if let Some(row) = rescheduled {
                        return Ok((Some(row), true));
                    }
                    let row = invoices::table
                        .find(id.get())
                        .select(InvoiceRow::as_select())
                        .first(c)
                        .optional()?;
                    Ok((row, false))
                })
            })
            .await?;
        let Some(row) = row else {
            return Ok(RetryOutcome::NotFound);
        };
        let invoice = Invoice::try_from(row)?;
        Ok(match (invoice.status, changed) {
            (_, true) => RetryOutcome::MadeDue(invoice),
            (InvoiceStatus::Charging, _) => RetryOutcome::Charging,
            (InvoiceStatus::Paid, _) => RetryOutcome::Paid,
            (InvoiceStatus::Void, _) => RetryOutcome::Void,
            _ => RetryOutcome::AlreadyDue(invoice),
        })
    }

    async fn create_invoice(
        &self,
        draft: &InvoiceDraft,
        keyed: Option<KeyedRequest>,
        now: DateTime<Utc>,
    ) -> Result<InvoiceCreation, StoreError> {
        crate::creation::create_invoice(self, draft, keyed, now).await
    }

    async fn create_invoices(
        &self,
        drafts: &[InvoiceDraft],
        now: DateTime<Utc>,
    ) -> Result<Vec<InvoiceCreation>, StoreError> {
        crate::creation::create_invoices(self, drafts, now).await
    }

    async fn void_invoice(
        &self,
        id: InvoiceId,
        now: DateTime<Utc>,
    ) -> Result<VoidOutcome, StoreError> {
        crate::void::void_invoice(self, id, now).await
    }

    async fn count_by_status(&self) -> Result<Vec<(InvoiceStatus, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = self
            .run(|pools| {
                with_conn!(pools, |c| invoices::table
                    .group_by(invoices::status)
                    .select((invoices::status, diesel::dsl::count_star()))
                    .load(c)
                    .map_err(store_error))
            })
            .await?;
        rows.into_iter()
            .map(|(status, n)| {
                let status = status
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("invoice status: {e}")))?;
                Ok((status, u64::try_from(n).unwrap_or(0)))
            })
            .collect()
    }

    async fn count_due(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let now = to_db(now);
        self.run(move |pools| {
            with_conn!(pools, |c| invoices::table
                .filter(status_is(InvoiceStatus::Pending))
                .filter(
                    invoices::next_attempt_at
                        .is_null()
                        .and(invoices::due_at.le(now))
                        .or(invoices::next_attempt_at.le(now))
                )
                .count()
                .get_result::<i64>(c)
                .map(|n| u64::try_from(n).unwrap_or(0))
                .map_err(store_error))
        })
        .await
    }
}
