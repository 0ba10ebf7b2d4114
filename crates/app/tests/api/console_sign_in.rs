//! The console's sign-in: throttled per client address, and returning to the page that asked
//! for it (console pages only: never an open redirect).

use std::net::{IpAddr, Ipv4Addr};

use antaeus_data::Backend;

use crate::console_client::{Browser, input_value, location};
use crate::helpers::{API_TOKEN, TestApp, spawn_app_with};

/// Wrong sign-ins an address may make within a minute.
const ALLOWED: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_wrong_tokens_a_minute_throttle_that_address_and_no_other() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await.unwrap();
    let guesser = Browser::new(&app);
    for n in 1..=ALLOWED {
        let wrong = guesser
            .post("/console/sign-in", &[("token", "guess")])
            .await;
        assert_eq!(wrong.status(), 401, "wrong token {n}");
    }
    for token in ["guess", API_TOKEN] {
        let throttled = guesser.post("/console/sign-in", &[("token", token)]).await;
        assert_eq!(throttled.status(), 429, "even the right token waits");
        let retry_after: u64 = throttled.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
        assert!(
            throttled.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = throttled.text().await.unwrap();
        assert!(html.contains(r#"id="flash" role="alert""#), "{html}");
        assert!(html.contains("Too many wrong tokens"), "{html}");
        assert!(!html.contains(API_TOKEN));
    }

    // Another address (127.0.0.2 reaches the server's 127.0.0.1 on Linux) is unaffected.
    let elsewhere = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap();
    let sign_in = format!("{}/console/sign-in", app.address);
    for (token, status) in [("guess", 401), (API_TOKEN, 303)] {
        let response = elsewhere
            .post(&sign_in)
            .form(&[("token", token)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "from 127.0.0.2");
    }
}

/// A sign-in with a token one holds must not wipe the count of guesses: else a holder of the
/// read token could guess at the write token without limit, signing in after every nine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_between_wrong_tokens_does_not_reset_the_count() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await.unwrap();
    let guesser = Browser::new(&app);
    for n in 1..ALLOWED {
        let wrong = guesser
            .post("/console/sign-in", &[("token", "guess")])
            .await;
        assert_eq!(wrong.status(), 401, "wrong token {n}");
    }
    let signed_in = guesser
        .post("/console/sign-in", &[("token", API_TOKEN)])
        .await;
    assert_eq!(signed_in.status(), 303, "a token it holds still signs in");
    let tenth = guesser
        .post("/console/sign-in", &[("token", "guess")])
        .await;
    assert_eq!(tenth.status(), 401);
    let after = guesser
        .post("/console/sign-in", &[("token", "guess")])
        .await;
    assert_eq!(after.status(), 429, "ten wrong tokens within the minute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    let sign_in_from = |app: &TestApp, forwarded: &str, token: &str| {
        app.client
            .post(format!("{}/console/sign-in", app.address))
            .header("x-forwarded-for", forwarded.to_owned())
            .form(&[("token", token.to_owned())])
            .send()
    };
    // By default the header is anyone's to send: changing it does not escape the throttle.
    let direct = spawn_app_with(Backend::Sqlite, &[]).await.unwrap();
    for n in 0..ALLOWED {
        let forged = format!("198.51.100.{n}");
        let wrong = sign_in_from(&direct, &forged, "guess").await.unwrap();
        assert_eq!(wrong.status(), 401);
    }
    let still = sign_in_from(&direct, "198.51.100.200", "guess")
        .await
        .unwrap();
    assert_eq!(still.status(), 429);

    // Behind a trusted proxy (here the test itself, at 127.0.0.1) each client counts apart.
    let proxied = spawn_app_with(Backend::Sqlite, &[("ANTAEUS_TRUSTED_PROXIES", "127.0.0.1")])
        .await
        .unwrap();
    for _ in 0..ALLOWED {
        let wrong = sign_in_from(&proxied, "198.51.100.1", "guess")
            .await
            .unwrap();
        assert_eq!(wrong.status(), 401);
    }
    let throttled = sign_in_from(&proxied, "198.51.100.1", "guess")
        .await
        .unwrap();
    assert_eq!(throttled.status(), 429);
    let other = sign_in_from(&proxied, "198.51.100.2", API_TOKEN)
        .await
        .unwrap();
    assert_eq!(other.status(), 303, "another client behind the same proxy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_returns_to_the_console_page_that_asked_for_it() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await.unwrap();
    let browser = Browser::new(&app);
    let asked = "/console/invoices?status=FAILED&currency=EUR";
    let sent = browser.get(asked).await;
    assert_eq!(sent.status(), 303);
    let sign_in = location(&sent);
    assert_eq!(
        sign_in,
        "/console/sign-in?next=%2Fconsole%2Finvoices%3Fstatus%3DFAILED%26currency%3DEUR"
    );
    // The form carries it, HTML-escaped (a browser posts it unescaped).
    let escaped = asked.replace('&', "&amp;");
    let form = browser.page(&sign_in).await;
    assert_eq!(input_value(&form, "next"), Some(escaped.clone()), "{form}");

    let wrong = browser
        .post("/console/sign-in", &[("token", "nope"), ("next", asked)])
        .await;
    assert_eq!(wrong.status(), 401);
    let again = wrong.text().await.unwrap();
    assert_eq!(input_value(&again, "next"), Some(escaped), "kept");

    let signed = browser
        .post("/console/sign-in", &[("token", API_TOKEN), ("next", asked)])
        .await;
    assert_eq!(signed.status(), 303);
    assert_eq!(location(&signed), asked);

    let operator = Browser::sign_in(&app, API_TOKEN).await;
    let already = operator.get(&sign_in).await;
    assert_eq!(
        location(&already),
        asked,
        "signed in already: straight there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_next_leaving_the_console_is_ignored_never_an_open_redirect() {
    let app = spawn_app_with(Backend::Sqlite, &[]).await.unwrap();
    let browser = Browser::new(&app);
    for next in [
        "//evil.example/console",
        "https://evil.example/console",
        "/\\evil.example",
        "/console\\..\\evil",
        "/console//evil.example",
        "/console/../rest/v1/invoices",
        "/rest/v1/invoices",
        "javascript:alert(1)",
    ] {
        let query = serde_urlencoded::to_string([("next", next)]).unwrap();
        let form = browser.page(&format!("/console/sign-in?{query}")).await;
        assert_eq!(input_value(&form, "next"), None, "{next}: {form}");
        let signed = browser
            .post("/console/sign-in", &[("token", API_TOKEN), ("next", next)])
            .await;
        assert_eq!(signed.status(), 303, "{next}");
        assert_eq!(location(&signed), "/console", "{next}");
    }
}
