//! Screenshots of every page, checked to be real 1280-pixel-wide PNGs; written to
//! `docs/console/<page>.png` only when `ANTAEUS_CONSOLE_SCREENSHOTS=1`, so that ordinary test
//! runs never rewrite tracked files.

use std::path::PathBuf;

use fantoccini::Locator;

use crate::browser::{Browser, JavaScript};
use crate::chromedriver::chromium;
use crate::console::{Role, sign_in, start_console};
use crate::pages::{Page, sign_in_page, signed_in_pages};

/// `1` writes the screenshots into docs/console/.
const WRITE_VAR: &str = "ANTAEUS_CONSOLE_SCREENSHOTS";

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Whether the page's own stylesheet loaded (the CSP allows it) and has rules.
const STYLED: &str = "return [...document.styleSheets].some((s) => \
    s.href && s.href.endsWith('/console/assets/console.css') && s.cssRules.length > 0);";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_can_be_screenshot_for_the_docs() {
    let Some(chromium) = chromium("every_page_can_be_screenshot_for_the_docs") else {
        return;
    };
    let write = std::env::var(WRITE_VAR).is_ok_and(|v| v == "1");
    if !write {
        eprintln!(
            "screenshots are checked but not written (set {WRITE_VAR}=1 to write docs/console/)"
        );
    }
    // A run that takes a moment, so that its chart spreads over time.
    let console = start_console(&[
        ("ANTAEUS_CONCURRENCY", "8"),
        ("ANTAEUS_SIMULATED_LATENCY_MS", "40"),
        ("ANTAEUS_SIMULATED_JITTER_MS", "30"),
    ])
    .await;
    let browser = console.browser(&chromium, JavaScript::On).await;
    shoot(&browser, &sign_in_page(), write).await;
    sign_in(&browser, Role::Operator).await;
    for page in signed_in_pages(&console).await {
        shoot(&browser, &page, write).await;
    }
    browser.close().await;
}

/// Opens `page`, takes a screenshot, checks it, and writes it when `write`.
async fn shoot(browser: &Browser, page: &Page, write: bool) {
    browser.goto(&page.path).await;
    browser
        .client
        .find(Locator::Css("h1"))
        .await
        .expect("a rendered page");
    let styled = browser.js(STYLED).await;
    assert_eq!(
        styled, true,
        "{}: console.css is loaded and applied",
        page.name
    );
    // Settle fonts and layout before the picture.
    browser
        .js("return document.fonts ? document.fonts.ready.then(() => true) : true;")
        .await;
    // The whole page in one picture: the window as tall as the page (within reason).
    let tall = browser
        .js("return document.documentElement.scrollHeight;")
        .await
        .as_u64()
        .unwrap_or(900)
        .clamp(900, 2000);
    browser
        .client
        .set_window_size(1280, u32::try_from(tall).unwrap())
        .await
        .expect("resize the window");
    let png = browser.client.screenshot().await.expect("a screenshot");
    browser.client.set_window_size(1280, 900).await.unwrap();
    assert_eq!(
        png.get(..8),
        Some(&PNG_SIGNATURE[..]),
        "{}: a PNG",
        page.name
    );
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!(width, 1280, "{}: the window's width", page.name);
    assert!(
        height >= 600,
        "{}: a page, not a sliver ({height} px)",
        page.name
    );
    if write {
        let path = docs_dir().join(format!("{}.png", page.name));
        std::fs::write(&path, &png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        eprintln!("wrote {}", path.display());
    }
}

/// `docs/console/` of the repository.
fn docs_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/console");
    std::fs::create_dir_all(&dir).expect("docs/console");
    dir
}
