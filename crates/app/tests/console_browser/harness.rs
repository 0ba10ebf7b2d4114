//! The harness itself on fixture pages (no server): the audit finds what it must, Tab and
//! Enter reach and press a button, confirm() dialogs are accepted, and scripts can be off.

use fantoccini::key::Key;

use crate::audit::AUDIT;
use crate::browser::{Browser, JavaScript};
use crate::chromedriver::chromium;

/// A page that passes the audit: a labelled field, a confirmed form, a table with headers.
const GOOD: &str = r#"<!doctype html><html lang="en"><title>fixture</title>
<main id="main"><h1>Fixture</h1>
<form id="form" data-confirm="Sure?"><label for="field">Field</label><input id="field" name="f">
<button type="submit" id="go">Go</button></form>
<table><thead><tr><th scope="col">Column</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>
<svg role="img" aria-label="A chart" width="10" height="10"></svg></main>
<script>
document.getElementById('form').addEventListener('submit', (e) => {
  e.preventDefault();
  if (confirm(e.target.dataset.confirm)) document.title = 'confirmed';
});
</script>"#;

/// A page with one of each problem the audit looks for.
const BAD: &str = r#"<!doctype html><html lang="en"><title>bad</title><main id="main"><h1>Bad</h1>
<input id="unlabelled" name="u"><button id="nameless"></button>
<table id="headless"><tr><td>1</td></tr></table><a href="/x"></a>
<svg id="chart" role="img" width="10" height="10"></svg></main>"#;

/// A page whose script retitles it: "on" where scripts run, "off" where they do not.
const SCRIPTED: &str = "<title>off</title><script>document.title = 'on'</script>";

/// `html` as a data: URL.
fn data_url(html: &str) -> String {
    let escaped = html
        .replace('%', "%25")
        .replace('#', "%23")
        .replace('\n', "%0A");
    format!("data:text/html;charset=utf-8,{escaped}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_harness_audits_tabs_presses_and_confirms_on_fixture_pages() {
    let Some(chromium) = chromium("the_harness_audits_tabs_presses_and_confirms_on_fixture_pages")
    else {
        return;
    };
    let browser = Browser::open(&chromium, "", JavaScript::On).await;

    browser.client.goto(&data_url(BAD)).await.unwrap();
    let problems = browser.js(AUDIT).await;
    let problems: Vec<&str> = problems
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for expected in [
        "<input#unlabelled[name=u]> has no label",
        "<table#headless> has no <th> headers",
        "<button#nameless> has no accessible name",
        "link to /x has no text",
        "<svg#chart> (role=img) has no aria-label or <title>",
    ] {
        assert!(problems.contains(&expected), "{expected:?} in {problems:?}");
    }
    assert_eq!(problems.len(), 5, "{problems:?}");

    browser.client.goto(&data_url(GOOD)).await.unwrap();
    assert_eq!(browser.js(AUDIT).await, serde_json::json!([]));
    assert_eq!(browser.tab_to("go").await, 2, "the field, then the button");
    browser.press(Key::Enter).await;
    browser
        .wait_for("the confirmed submit", || async {
            let title = browser.client.title().await?;
            Ok((title == "confirmed").then_some(()))
        })
        .await;
    browser.client.goto(&data_url(SCRIPTED)).await.unwrap();
    assert_eq!(browser.client.title().await.unwrap(), "on", "scripts run");
    browser.close().await;

    let browser = Browser::open(&chromium, "", JavaScript::Off).await;
    browser.client.goto(&data_url(SCRIPTED)).await.unwrap();
    assert_eq!(
        browser.client.title().await.unwrap(),
        "off",
        "no script ran"
    );
    browser.close().await;
}
