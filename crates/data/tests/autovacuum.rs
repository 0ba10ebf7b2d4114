//! Whether the database cleans up after billing: SQLite always does; PostgreSQL does unless its
//! autovacuum is off, on the server or for a table billing churns.

mod common;

use antaeus_data::testing::TestDatabase;
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::Text;

on_every_backend!(autovacuum_off_follows_the_server_and_each_churned_table);

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    autovacuum: String,
}

/// The server's `autovacuum` setting, read on a connection of the test's own.
async fn server_autovacuum(db: &TestDatabase) -> String {
    let url = db.url_string();
    tokio::task::spawn_blocking(move || {
        let mut conn = diesel::PgConnection::establish(&url).unwrap();
        diesel::sql_query("SHOW autovacuum")
            .get_result::<Setting>(&mut conn)
            .unwrap()
            .autovacuum
    })
    .await
    .unwrap()
}

async fn autovacuum_off_follows_the_server_and_each_churned_table(db: TestDatabase) {
    if db.db.backend() == antaeus_data::Backend::Sqlite {
        assert!(!db.db.autovacuum_off().await.unwrap());
        return;
    }
    let server_off = server_autovacuum(&db).await == "off";
    assert_eq!(db.db.autovacuum_off().await.unwrap(), server_off);

    for (table, off) in [("outbox", "false"), ("invoices", "off")] {
        db.execute(&format!(
            "ALTER TABLE {table} SET (autovacuum_enabled = {off})"
        ))
        .await
        .unwrap();
        assert!(
            db.db.autovacuum_off().await.unwrap(),
            "autovacuum turned off for {table}"
        );
        db.execute(&format!("ALTER TABLE {table} RESET (autovacuum_enabled)"))
            .await
            .unwrap();
        assert_eq!(db.db.autovacuum_off().await.unwrap(), server_off);
    }
    // Turned on again explicitly, it is on.
    db.execute("ALTER TABLE outbox SET (autovacuum_enabled = on)")
        .await
        .unwrap();
    assert_eq!(db.db.autovacuum_off().await.unwrap(), server_off);
    // Another table's setting is not billing's concern.
    db.execute("ALTER TABLE customers SET (autovacuum_enabled = false)")
        .await
        .unwrap();
    assert_eq!(db.db.autovacuum_off().await.unwrap(), server_off);
}
