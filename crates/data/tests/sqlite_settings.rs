//! SQLite's process-wide settings take effect when a `Database` is the first to open SQLite,
//! as in every Antaeus process: a test binary of its own, so no other test opens SQLite first.

use antaeus_data::testing::{TestDatabase, sqlite_memory_used, sqlite_settings_applied};
use antaeus_models::{Currency, ExternalId, ProviderRefs};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_first_database_opened_sets_multi_thread_mode_and_its_connections_work_in_parallel() {
    use antaeus_core::store::{CustomerStore, NewCustomer};
    use antaeus_models::PageRequest;

    let db = TestDatabase::sqlite().await;
    assert!(
        sqlite_settings_applied(),
        "Database::connect must set SQLite's settings before it opens its first connection"
    );
    // Writers and readers on several threads at once, each on a connection of its own.
    let now = chrono::Utc::now();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let store = db.db.clone();
            tokio::spawn(async move {
                let new = NewCustomer {
                    currency: Currency::EUR,
                    external_id: Some(ExternalId::parse(format!("c-{n}")).unwrap()),
                    name: None,
                    email: None,
                    provider: ProviderRefs::default(),
                };
                store.create_customer(&new, None, now).await.unwrap();
                let page = PageRequest {
                    after: None,
                    limit: antaeus_models::PageLimit::new(100).unwrap(),
                };
                store.list_customers(page).await.unwrap().len()
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap() >= 1);
    }
    // Pages cached, statements prepared, and no allocation counted: no allocator mutex either.
    assert_eq!(sqlite_memory_used(), 0, "SQLite keeps memory statistics");
}
