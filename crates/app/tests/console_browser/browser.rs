//! A headless Chromium session on the console, with the few verbs the tests speak: open a
//! page, read an element's text, wait for a condition, press keys.

use std::future::Future;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::key::Key;
use fantoccini::wd::Capabilities;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use crate::chromedriver::{ChromeDriver, Chromium};

/// How long a condition may take before a test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Whether pages run their scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JavaScript {
    /// As a browser normally does.
    On,
    /// Blocked by the browser's content settings, as a user who turned it off has it.
    Off,
}

/// A browser session on the server at `base`; its chromedriver and browser end when dropped.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    /// `http://127.0.0.1:<port>` of the server under test.
    pub base: String,
    // Dropped after `client`: chromedriver, then the profile directory.
    _driver: ChromeDriver,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless 1280×900 Chromium with a fresh profile.
    pub async fn open(chromium: &Chromium, base: &str, javascript: JavaScript) -> Self {
        let driver = ChromeDriver::start(chromium).await;
        let profile = tempfile::tempdir().expect("profile directory");
        let mut options = json!({
            "binary": chromium.browser,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--window-size=1280,900",
                "--hide-scrollbars",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        if javascript == JavaScript::Off {
            options["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let capabilities: Capabilities = serde_json::from_value(json!({
            "browserName": "chrome",
            "goog:chromeOptions": options,
            // Leave confirm() dialogs open for the test to read and accept.
            "unhandledPromptBehavior": "ignore",
        }))
        .unwrap();
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a Chromium session from chromedriver");
        Self {
            client,
            base: base.to_owned(),
            _driver: driver,
            _profile: profile,
        }
    }

    /// Ends the session politely (the drop kills whatever is left).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Opens `path` of the server.
    pub async fn goto(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path (with query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current URL");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The element `#id`, failing the test when the page has none.
    pub async fn by_id(&self, id: &str) -> Element {
        let page = self.path().await;
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("#{id} on {page}: {e}"))
    }

    /// Every element matching `css` (none is not an error).
    pub async fn all(&self, css: &str) -> Vec<Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
    }

    /// The body rows of `<table id="{table}">`.
    pub async fn rows(&self, table: &str) -> Vec<Element> {
        self.all(&format!("#{table} tbody tr")).await
    }

    /// Whether the page has an element `#id`.
    pub async fn has(&self, id: &str) -> bool {
        self.client
            .find_all(Locator::Id(id))
            .await
            .is_ok_and(|found| !found.is_empty())
    }

    /// The visible text of `#id`, trimmed.
    pub async fn text(&self, id: &str) -> String {
        let text = self.by_id(id).await.text().await.expect("element text");
        text.trim().to_owned()
    }

    /// Runs `script` in the page and returns its result.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Presses and releases `key` on whatever has the focus.
    pub async fn press(&self, key: Key) {
        let key = char::from(key);
        let keys = KeyActions::new("keyboard".into())
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
        self.client.perform_actions(keys).await.expect("key press");
    }

    /// The id of the focused element ("" when it has none).
    pub async fn focused_id(&self) -> String {
        self.js("return document.activeElement ? document.activeElement.id : '';")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Presses Tab from the top of the page until `#id` has the focus; fails after 80 presses.
    /// Returns how many presses it took.
    pub async fn tab_to(&self, id: &str) -> usize {
        self.js("document.activeElement && document.activeElement.blur(); window.focus();")
            .await;
        for presses in 1..=80 {
            self.press(Key::Tab).await;
            if self.focused_id().await == id {
                return presses;
            }
        }
        panic!(
            "80 presses of Tab never reached #{id} on {}",
            self.path().await
        );
    }

    /// Accepts a confirm() dialog if one is open; returns its text.
    pub async fn accept_dialog(&self) -> Option<String> {
        let text = self.client.get_alert_text().await.ok()?;
        self.client.accept_alert().await.expect("accept dialog");
        Some(text)
    }

    /// Waits for a confirm() dialog, accepts it and returns its text; fails after [`PATIENCE`].
    pub async fn accept_expected_dialog(&self) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(text) = self.accept_dialog().await {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "waited {PATIENCE:?} for a dialog"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The confirmation question (`data-confirm`) of the form that button `#id` submits, if any.
    pub async fn confirmation_of(&self, id: &str) -> Option<String> {
        let script = format!(
            "const form = document.getElementById('{id}').form; \
             return form ? form.getAttribute('data-confirm') : null;"
        );
        self.js(&script).await.as_str().map(str::to_owned)
    }

    /// Waits until `check` answers `Some`, accepting any dialog on the way; fails the test with
    /// `what` after [`PATIENCE`].
    pub async fn wait_for<T, F, Fut>(&self, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>, CmdError>>,
    {
        let deadline = Instant::now() + PATIENCE;
        loop {
            self.accept_dialog().await;
            if let Ok(Some(found)) = check().await {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "waited {PATIENCE:?} for {what}; the page is {}",
                self.path().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `#id` exists and its text satisfies `wanted`; returns the text.
    pub async fn wait_for_text(&self, id: &str, wanted: impl Fn(&str) -> bool) -> String {
        self.wait_for(&format!("#{id} to read as expected"), || async {
            let found = self.client.find_all(Locator::Id(id)).await?;
            let Some(element) = found.into_iter().next() else {
                return Ok(None);
            };
            let text = element.text().await?;
            let text = text.trim();
            Ok(wanted(text).then(|| text.to_owned()))
        })
        .await
    }

    /// Waits until an element matches `css`; returns the first.
    pub async fn wait_for_css(&self, css: &str) -> Element {
        self.wait_for(&format!("an element {css}"), || async {
            let found = self.client.find_all(Locator::Css(css)).await?;
            Ok(found.into_iter().next())
        })
        .await
    }

    /// Waits until the page's query string contains `fragment` (a GET form was submitted).
    pub async fn wait_for_query(&self, fragment: &str) {
        self.wait_for(&format!("a page with {fragment} in its query"), || async {
            let url = self.client.current_url().await?;
            Ok(url
                .query()
                .is_some_and(|q| q.contains(fragment))
                .then_some(()))
        })
        .await
    }

    /// Waits until the page shown is at a path starting with `prefix`; returns the path.
    pub async fn wait_for_path(&self, prefix: &str) -> String {
        self.wait_for(&format!("a page at {prefix}…"), || async {
            let url = self.client.current_url().await?;
            Ok(url
                .path()
                .starts_with(prefix)
                .then(|| url.path().to_owned()))
        })
        .await
    }
}
