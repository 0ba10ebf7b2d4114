//! PostgreSQL over TLS through the bundled libpq: against a throwaway cluster that takes TCP
//! connections over TLS only (see `cluster.rs`), `sslmode=require` and `sslmode=verify-full`
//! open, migrate and query the database, and a connection without TLS, or one that cannot
//! verify the server's certificate, fails with one clear line.
//!
//! Each test starts its own cluster with `initdb` and `pg_ctl` (Debian's `postgresql`) and makes
//! its certificates with `openssl`; where those are missing it prints a `SKIPPED:` line and
//! passes, unless `ANTAEUS_REQUIRE_TLS_POSTGRES=1` (as `.ci/run` sets) makes that a failure. As
//! root, the cluster runs as the `postgres` user (initdb refuses root).

mod certs;
mod cluster;
mod tools;

use antaeus_core::store::CustomerStore;
use antaeus_data::{DataError, Database, DatabaseUrl, PoolOptions};
use antaeus_models::Currency;

use cluster::TlsCluster;

async fn connect(url: &str) -> Result<Database, DataError> {
    let url: DatabaseUrl = url.parse().expect("a PostgreSQL URL");
    let options = PoolOptions {
        max_connections: 2,
        ..PoolOptions::default()
    };
    Database::connect(&url, options).await
}

/// The error a user would see, checked to be one line.
fn one_line_error(result: Result<Database, DataError>, what: &str) -> String {
    let err = result.err().unwrap_or_else(|| panic!("{what}: connected"));
    let line = err.to_string();
    assert!(!line.contains('\n'), "{what}: not one line: {line:?}");
    assert!(line.starts_with("cannot open database "), "{what}: {line}");
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_and_verify_full_connect_migrate_and_query_over_tls() {
    let Some(cluster) = TlsCluster::start("require_and_verify_full") else {
        return;
    };

    let db = connect(&cluster.url("127.0.0.1", "sslmode=require"))
        .await
        .expect("sslmode=require connects");
    assert!(db.migrate().await.expect("migrate over TLS") > 0);
    assert!(db.is_migrated().await.unwrap());
    let created = db.insert_customers(vec![Currency::DKK]).await.unwrap();
    let id = created[0].id;

    let ca = cluster.certs.ca.display();
    let verified = cluster.url(
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let db = connect(&verified)
        .await
        .expect("sslmode=verify-full with the server's CA connects");
    assert!(db.is_migrated().await.unwrap());
    let customer = db.fetch_customer(id).await.unwrap().expect("the customer");
    assert_eq!(customer.currency, Currency::DKK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_without_tls_or_with_an_unknown_ca_is_refused_with_one_clear_line() {
    let Some(cluster) = TlsCluster::start("without_tls_or_unknown_ca") else {
        return;
    };

    // The server has no `host` line for it: TLS is the only way in.
    let plain = one_line_error(
        connect(&cluster.url("127.0.0.1", "sslmode=disable")).await,
        "sslmode=disable",
    );
    assert!(
        plain.contains("no pg_hba.conf entry") && plain.contains("no encryption"),
        "{plain}"
    );

    let other_ca = cluster.certs.other_ca.display();
    let params = format!("sslmode=verify-full&sslrootcert={other_ca}");
    let unverified = one_line_error(
        connect(&cluster.url("localhost", &params)).await,
        "verify-full with another CA",
    );
    assert!(
        unverified.contains("certificate verify failed"),
        "{unverified}"
    );

    // libpq's advice for a missing root certificate; our OpenSSL's default trust store is not
    // the system's, so the line says what to do instead.
    let params = "sslmode=verify-full&sslrootcert=system";
    let system = one_line_error(
        connect(&cluster.url("localhost", params)).await,
        "verify-full with the system's roots",
    );
    assert!(
        system.contains("certificate verify failed") && system.contains("SSL_CERT_FILE="),
        "{system}"
    );

    // Without a root certificate to verify against, libpq says what to give it.
    let none = cluster.certs.ca.with_file_name("none.pem");
    let missing = format!("sslmode=verify-full&sslrootcert={}", none.display());
    let no_root = one_line_error(
        connect(&cluster.url("localhost", &missing)).await,
        "verify-full with a missing CA file",
    );
    assert!(no_root.contains("none.pem"), "{no_root}");
}
