use std::sync::Arc;

use antaeus_models::{
    AttemptOutcome, BillingRun, ChargeAttempt, Currency, IdempotencyKey, InvoiceId, Money,
    MoneyTotal, MonthlyMetric, MonthlyStat, RunCounts, RunId, RunMinute, RunScope, RunStatus,
    RunTrigger,
};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::ManualClock;
use crate::billing::BreakerState;
use crate::store::{
    MockConsoleStore, MockInvoiceStore, MockOutboxStore, MockRunStore, MockStatsStore, ProblemCall,
};

struct Health;

impl ProviderHealth for Health {
    fn breaker_state(&self) -> BreakerState {
        BreakerState::Open
    }
    fn calls_in_flight(&self) -> usize {
        3
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
}

fn run(id: i64) -> BillingRun {
    BillingRun {
        id: RunId::new(id).unwrap(),
        idempotency_key: IdempotencyKey::parse(format!("k{id}")).unwrap(),
        trigger: RunTrigger::Api,
        status: RunStatus::Completed,
        instance_id: "test-00000001".into(),
        started_at: now(),
        finished_at: Some(now()),
        abort_reason: None,
        counts: RunCounts::default(),
        request_fingerprint: None,
        scope: RunScope::All,
    }
}

fn service(
    stats: MockStatsStore,
    runs: MockRunStore,
    outbox: MockOutboxStore,
    console: MockConsoleStore,
) -> ConsoleService {
    with_invoices(stats, runs, outbox, console, MockInvoiceStore::new())
}

fn with_invoices(
    stats: MockStatsStore,
    runs: MockRunStore,
    outbox: MockOutboxStore,
    console: MockConsoleStore,
    invoices: MockInvoiceStore,
) -> ConsoleService {
    ConsoleService::new(ConsoleDeps {
        stats: Arc::new(stats),
        runs: Arc::new(runs),
        invoices: Arc::new(invoices),
        outbox: Arc::new(outbox),
        console: Arc::new(console),
        health: Arc::new(Health),
        clock: Arc::new(ManualClock::new(now())),
    })
}

fn stat(metric: MonthlyMetric, label: &str, count: u64) -> MonthlyStat {
    MonthlyStat {
        metric,
        label: label.into(),
        currency: None,
        count,
        amount: None,
    }
}

#[tokio::test]
async fn the_overview_splits_this_months_lines_by_what_they_count() {
    let mut stats = MockStatsStore::new();
    stats.expect_invoice_totals().returning(|| Ok(vec![]));
    stats
        .expect_monthly_stats()
        .withf(|within| *within == now())
        .returning(|_| {
            Ok(vec![
                MonthlyStat {
                    currency: Some(Currency::EUR),
                    amount: Some(MoneyTotal::from_minor(1250, Currency::EUR)),
                    ..stat(MonthlyMetric::Collected, "", 2)
                },
                stat(MonthlyMetric::Declined, "insufficient_funds", 5),
                stat(MonthlyMetric::Failed, "retries_exhausted", 1),
                stat(MonthlyMetric::Declined, "card_expired", 4),
            ])
        });
    let mut runs = MockRunStore::new();
    runs.expect_list_runs()
        .withf(|page| page.after.is_none() && page.limit.get() == RECENT_RUNS)
        .returning(|_| Ok(vec![run(2), run(1)]));
    let mut outbox = MockOutboxStore::new();
    outbox.expect_outbox_backlog().returning(|| Ok(7));
    outbox.expect_dead_events().returning(|| Ok(1));
    let mut console = MockConsoleStore::new();
    console.expect_open_disputes().returning(|| Ok(2));
    console.expect_double_charged().returning(|| Ok(4));
    let overview = service(stats, runs, outbox, console)
        .overview()
        .await
        .unwrap();
    assert_eq!(overview.collected.len(), 1);
    assert_eq!(
        overview.collected[0].amount.unwrap().to_string(),
        "12.50 EUR"
    );
    let codes: Vec<_> = overview
        .decline_codes
        .iter()
        .map(|s| s.label.as_str())
        .collect();
    assert_eq!(codes, ["insufficient_funds", "card_expired"]);
    assert_eq!(overview.failure_reasons[0].label, "retries_exhausted");
    assert_eq!(overview.recent_runs.len(), 2);
    assert_eq!(overview.breaker, BreakerState::Open);
    assert_eq!(overview.calls_in_flight, 3);
    assert_eq!((overview.outbox_backlog, overview.dead_events), (7, 1));
    assert_eq!(overview.open_disputes, 2);
    assert_eq!(overview.double_charged, 4);
}

#[tokio::test]
async fn a_costly_backlog_count_serves_the_next_overviews_for_ten_times_its_cost() {
    let clock = Arc::new(ManualClock::new(now()));
    let mut stats = MockStatsStore::new();
    stats.expect_invoice_totals().returning(|| Ok(vec![]));
    stats.expect_monthly_stats().returning(|_| Ok(vec![]));
    let mut runs = MockRunStore::new();
    runs.expect_list_runs().returning(|_| Ok(vec![]));
    let mut outbox = MockOutboxStore::new();
    let (counting, mut counts) = (clock.clone(), 0);
    // Each count takes 200 ms: kept for 2 s after it ends.
    outbox.expect_outbox_backlog().times(2).returning(move || {
        counting.advance(TimeDelta::milliseconds(200));
        counts += 1;
        Ok(counts * 100)
    });
    outbox.expect_dead_events().returning(|| Ok(0));
    let mut console = MockConsoleStore::new();
    console.expect_open_disputes().returning(|| Ok(0));
    console.expect_double_charged().returning(|| Ok(0));
    let service = ConsoleService::new(ConsoleDeps {
        stats: Arc::new(stats),
        runs: Arc::new(runs),
        invoices: Arc::new(MockInvoiceStore::new()),
        outbox: Arc::new(outbox),
        console: Arc::new(console),
        health: Arc::new(Health),
        clock: clock.clone(),
    });
    let first = service.overview().await.unwrap();
    assert_eq!(
        (first.outbox_backlog, first.outbox_backlog_at),
        (100, now())
    );
    clock.advance(TimeDelta::seconds(1));
    let kept = service.overview().await.unwrap();
    assert_eq!((kept.outbox_backlog, kept.outbox_backlog_at), (100, now()));
    clock.advance(TimeDelta::seconds(1));
    let recounted = service.overview().await.unwrap();
    assert_eq!(recounted.outbox_backlog, 200);
    assert_eq!(recounted.outbox_backlog_at, recounted.now);
}

fn problem(cursor: i64) -> ProblemCall {
    ProblemCall {
        cursor,
        attempt: ChargeAttempt {
            invoice_id: InvoiceId::new(cursor).unwrap(),
            run_id: Some(RunId::new(9).unwrap()),
            attempt_number: 1,
            idempotency_key: IdempotencyKey::parse(format!("inv-{cursor}-1")).unwrap(),
            instance_id: "test-00000001".into(),
            started_at: now(),
            finished_at: Some(now()),
            outcome: Some(AttemptOutcome::Declined),
            message: None,
            decline_code: Some("insufficient_funds".into()),
            provider_ref: None,
        },
    }
}

fn minute(m: u32, outcome: AttemptOutcome, calls: u64) -> RunMinute {
    RunMinute {
        minute: Utc.with_ymd_and_hms(2026, 12, 1, 10, m, 0).unwrap(),
        outcome,
        calls,
    }
}

#[tokio::test]
async fn a_run_page_adds_its_minutes_up_by_outcome_and_pages_its_problems() {
    let mut stats = MockStatsStore::new();
    stats.expect_run_stats().returning(|_| {
        Ok(vec![
            minute(0, AttemptOutcome::Charged, 10),
            minute(0, AttemptOutcome::Declined, 2),
            minute(1, AttemptOutcome::Charged, 5),
            minute(1, AttemptOutcome::Timeout, 1),
        ])
    });
    let mut runs = MockRunStore::new();
    runs.expect_fetch_run()
        .returning(|id| Ok(Some(run(id.get()))));
    let mut console = MockConsoleStore::new();
    console.expect_run_problems().returning(|_, after, limit| {
        let start = after.unwrap_or(0) + 1;
        Ok((start..start + 3)
            .take(usize::from(limit))
            .map(problem)
            .collect())
    });
    let service = service(stats, runs, MockOutboxStore::new(), console);
    let id = RunId::new(9).unwrap();
    let page = service.run_page(id, None, 2).await.unwrap();
    assert_eq!(
        page.calls.by_outcome,
        [
            (AttemptOutcome::Charged, 15),
            (AttemptOutcome::Declined, 2),
            (AttemptOutcome::Timeout, 1)
        ]
    );
    assert_eq!(page.calls.total(), 18);
    assert_eq!(
        page.next_problems,
        Some(2),
        "a full page may have a next one"
    );
    let last = service.run_page(id, Some(2), 5).await.unwrap();
    assert_eq!(last.problems.len(), 3);
    assert_eq!(last.next_problems, None, "a short page is the last");
}

#[tokio::test]
async fn a_missing_run_is_not_found() {
    let mut runs = MockRunStore::new();
    runs.expect_fetch_run().returning(|_| Ok(None));
    let service = service(
        MockStatsStore::new(),
        runs,
        MockOutboxStore::new(),
        MockConsoleStore::new(),
    );
    let err = service
        .run_page(RunId::new(4).unwrap(), None, 50)
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::RunNotFound(_)), "{err:?}");
}

fn invoices_from(ids: std::ops::RangeInclusive<i64>) -> Vec<antaeus_models::Invoice> {
    ids.map(|id| {
        antaeus_models::Invoice::new(
            InvoiceId::new(id).unwrap(),
            antaeus_models::CustomerId::new(1).unwrap(),
            Money::from_minor(100, Currency::EUR).unwrap(),
            antaeus_models::InvoiceStatus::Pending,
        )
    })
    .collect()
}

fn invoices_service(store: MockInvoiceStore) -> ConsoleService {
    with_invoices(
        MockStatsStore::new(),
        MockRunStore::new(),
        MockOutboxStore::new(),
        MockConsoleStore::new(),
        store,
    )
}

#[tokio::test]
async fn a_due_filter_searches_one_window_of_ids_and_says_where_it_stopped() {
    use antaeus_models::{DueFilter, InvoiceFilter, PageLimit};

    let mut store = MockInvoiceStore::new();
    store
        .expect_list_invoices()
        .withf(|filter, page| {
            filter.due.is_some()
                && filter.up_to.map(InvoiceId::get) == Some(1_000 + SCAN_WINDOW)
                && page.after.map(InvoiceId::get) == Some(1_000)
        })
        .times(1)
        .returning(|_, _| Ok(invoices_from(1_001..=1_003)));
    store
        .expect_list_invoices()
        .withf(|filter, page| {
            *filter == InvoiceFilter::default()
                && page.after.map(InvoiceId::get) == Some(1_000 + SCAN_WINDOW)
                && page.limit.get() == 1
        })
        .times(1)
        .returning(|_, _| Ok(invoices_from(200_000..=200_000)));
    let filter = InvoiceFilter {
        due: Some(DueFilter::DueAt(now())),
        ..InvoiceFilter::default()
    };
    let page = invoices_service(store)
        .invoices(
            filter,
            Some(InvoiceId::new(1_000).unwrap()),
            PageLimit::new(50).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(page.invoices.len(), 3);
    let end = InvoiceId::new(1_000 + SCAN_WINDOW).unwrap();
    assert_eq!((page.next, page.searched_to), (Some(end), Some(end)));
}

#[tokio::test]
async fn the_last_window_and_indexed_filters_end_where_the_invoices_end() {
    use antaeus_models::{DueFilter, InvoiceFilter, InvoiceStatus, PageLimit};

    let mut store = MockInvoiceStore::new();
    store
        .expect_list_invoices()
        .withf(|filter, _| filter.up_to.is_some())
        .returning(|_, _| Ok(invoices_from(1..=2)));
    store
        .expect_list_invoices()
        .withf(|filter, _| *filter == InvoiceFilter::default())
        .returning(|_, _| Ok(vec![]));
    store
        .expect_list_invoices()
        .withf(|filter, _| filter.up_to.is_none() && filter.status.is_some())
        .returning(|_, page| Ok(invoices_from(1..=i64::from(page.limit.get()))));
    let service = invoices_service(store);
    let limit = PageLimit::new(2).unwrap();
    let overdue = InvoiceFilter {
        due: Some(DueFilter::OverdueAt(now())),
        ..InvoiceFilter::default()
    };
    let last = service
        .invoices(overdue, None, PageLimit::new(50).unwrap())
        .await
        .unwrap();
    assert_eq!(
        (last.next, last.searched_to),
        (None, None),
        "nothing beyond"
    );
    let failed_overdue = InvoiceFilter {
        status: Some(InvoiceStatus::Failed),
        due: Some(DueFilter::OverdueAt(now())),
        ..InvoiceFilter::default()
    };
    assert!(
        !needs_window(&failed_overdue),
        "FAILED is read from its own index"
    );
    let disputed_due = InvoiceFilter {
        disputed: Some(antaeus_models::DisputeFilter::Open),
        due: Some(DueFilter::DueAt(now())),
        ..InvoiceFilter::default()
    };
    assert!(
        !needs_window(&disputed_due),
        "disputed invoices are read from their own index"
    );
    let double_charged_overdue = InvoiceFilter {
        double_charged: true,
        due: Some(DueFilter::OverdueAt(now())),
        ..InvoiceFilter::default()
    };
    assert!(
        !needs_window(&double_charged_overdue),
        "double-charged invoices are read from their own index"
    );
    let full = service.invoices(failed_overdue, None, limit).await.unwrap();
    assert_eq!(full.next, Some(InvoiceId::new(2).unwrap()));
    assert_eq!(full.searched_to, None);
}
