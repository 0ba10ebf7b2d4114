//! The shipped CloudFormation stack (`deploy/aws/eventbridge-scheduler.yaml`) deployed into
//! LocalStack beside a real Antaeus: the rules' own scheduled deliveries, through the API
//! destination and its connection's `x-api-key`, start billing runs that complete.
//!
//! Needs a running LocalStack and its aws CLI (`make aws-test` starts one and runs this test):
//! `ANTAEUS_TEST_LOCALSTACK_URL=http://127.0.0.1:4566` and
//! `ANTAEUS_TEST_AWS_CLI=target/localstack/venv/bin/aws`. Without the URL the test says
//! `SKIPPED` on the terminal and passes, unless `ANTAEUS_REQUIRE_LOCALSTACK=1` (as in CI) makes
//! that a failure. LocalStack checks schedules once a minute, so the test takes a minute or so.
//!
//! EventBridge reaches Antaeus through a recording proxy, so the test sees each delivery as
//! sent and can deliver the same event again, as EventBridge does after a lost answer
//! (LocalStack itself never retries a delivery).

mod localstack;
mod proxy;

use std::time::{Duration, Instant};

use antaeus_app::settings::Settings;
use antaeus_app::startup::Application;
use antaeus_data::testing::TestDatabase;
use serde_json::Value;

use localstack::{Aws, Stack};
use proxy::RecordingProxy;

const TOKEN: &str = "localstack-test-token-0123456789";
const TRIGGER: &str = "/rest/v1/billing/runs";
/// LocalStack's schedule loop ticks every 59.9 s, and the two rules may fall on either side
/// of a tick.
const DELIVERIES_WITHIN: Duration = Duration::from_secs(150);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_stack_bills_through_eventbridge_in_localstack() {
    let Some(aws) = Aws::from_env() else { return };
    let antaeus = start_antaeus().await;
    let proxy = RecordingProxy::start(antaeus.clone());
    let started = Instant::now();
    let stack = Stack::deploy(
        &aws,
        &[
            format!("LocalTestingBaseUrl={}", proxy.address),
            format!("ApiToken={TOKEN}"),
            "ScheduleExpression=rate(1 minute)".to_owned(),
            "RetryScheduleExpression=rate(1 minute)".to_owned(),
        ],
    )
    .await;
    eprintln!(
        "stack {} deployed after {:?}",
        stack.name,
        started.elapsed()
    );

    let monthly_rule = format!("rule/{}-monthly", stack.name);
    let retry_rule = format!("rule/{}-retry", stack.name);
    let delivered =
        || proxy.first_from(&monthly_rule).is_some() && proxy.first_from(&retry_rule).is_some();
    while !delivered() {
        assert!(
            started.elapsed() < DELIVERIES_WITHIN,
            "no delivery from both rules within {DELIVERIES_WITHIN:?}; seen: {:?}",
            proxy.deliveries()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!("both rules delivered after {:?}", started.elapsed());
    stack.delete().await; // the rules are gone: no more deliveries

    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let deliveries = proxy.deliveries();
    let mut runs = Vec::new();
    for delivery in &deliveries {
        assert_eq!(delivery.api_key.as_deref(), Some(TOKEN), "{delivery:?}");
        assert_eq!(
            delivery.status, 202,
            "a new event starts a run: {delivery:?}"
        );
        let run = wait_for_run(&client, &antaeus, &delivery.answer["id"]).await;
        assert_eq!(run["status"], "COMPLETED", "{run}");
        assert_eq!(run["trigger"], "eventbridge", "{run}");
        assert_eq!(run["idempotencyKey"], delivery.event["id"], "{run}");
        runs.push(run);
    }
    let listed = list_runs(&client, &antaeus).await;
    assert_eq!(
        listed.len(),
        deliveries.len(),
        "one run per delivery: {listed:?}"
    );

    let monthly = proxy.first_from(&monthly_rule).unwrap();
    assert_eq!(monthly.path, TRIGGER);
    let retry = proxy.first_from(&retry_rule).unwrap();
    assert_eq!(retry.path, format!("{TRIGGER}?scope=retries"));
    let retry_run = runs.iter().find(|r| r["id"] == retry.answer["id"]).unwrap();
    if let Some(scope) = retry_run.get("scope") {
        assert_eq!(scope, "retries", "{retry_run}"); // once runs have scopes
    }

    // The monthly event delivered again, byte for byte: the same run, and nothing started.
    let again = client
        .post(format!("{antaeus}{}", monthly.path))
        .header("x-api-key", monthly.api_key.as_deref().unwrap())
        .header("content-type", monthly.content_type.as_deref().unwrap())
        .body(monthly.body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status().as_u16(), 200, "a redelivery starts nothing");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"], monthly.answer["id"]);
    assert_eq!(list_runs(&client, &antaeus).await.len(), listed.len());
}

/// `antaeus serve` as it runs behind EventBridge (scheduler off, an API token), on a fresh
/// seeded SQLite database; its `http://127.0.0.1:<port>`.
async fn start_antaeus() -> String {
    let db = TestDatabase::sqlite().await;
    let url = db.url_string();
    let settings = Settings::from_lookup(|name| {
        let value = match name {
            "ANTAEUS_DATABASE_URL" => url.as_str(),
            "ANTAEUS_HTTP_ADDR" => "127.0.0.1:0",
            "ANTAEUS_SCHEDULER" => "off",
            "ANTAEUS_API_TOKEN" => TOKEN,
            "ANTAEUS_SIMULATED_LATENCY_MS" => "1",
            _ => return None,
        };
        Some(value.to_owned())
    })
    .expect("settings");
    let app = Application::build(&settings).await.expect("build Antaeus");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(async move {
        let _db = db; // the database lives as long as the server
        app.run_until_stopped().await
    });
    address
}

async fn list_runs(client: &reqwest::Client, antaeus: &str) -> Vec<Value> {
    let runs = get_json(client, format!("{antaeus}{TRIGGER}")).await;
    runs.as_array().expect("a list of runs").clone()
}

/// Run `id` once it has ended.
async fn wait_for_run(client: &reqwest::Client, antaeus: &str, id: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let run = get_json(client, format!("{antaeus}{TRIGGER}/{id}")).await;
        if run["status"] != "RUNNING" {
            return run;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("run {id} did not end within a minute");
}

async fn get_json(client: &reqwest::Client, url: String) -> Value {
    let response = client.get(url).send().await.expect("GET");
    response.json().await.expect("a JSON answer")
}
