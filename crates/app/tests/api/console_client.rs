//! A browser's view of the operator console over HTTP, for the console's black-box tests:
//! signing in, reading pages and posting forms with the session's cookie.

use reqwest::header::{LOCATION, SET_COOKIE};

use crate::helpers::TestApp;

/// The read token of the tests that set one.
pub const READ_TOKEN: &str = "test-read-token-0123456789";

/// A browser's view of the console: the session cookie it got by signing in.
pub struct Browser<'a> {
    /// The app it talks to.
    pub app: &'a TestApp,
    /// `antaeus_console=…`, once signed in.
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    /// A browser without a session.
    pub fn new(app: &'a TestApp) -> Self {
        Self { app, cookie: None }
    }

    /// Signs in with `token`, asserting a 303 to the overview and a proper cookie.
    pub async fn sign_in(app: &'a TestApp, token: &str) -> Browser<'a> {
        let mut browser = Self::new(app);
        let response = browser.post("/console/sign-in", &[("token", token)]).await;
        assert_eq!(response.status(), 303);
        assert_eq!(response.headers()[LOCATION], "/console");
        let set = response.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set.contains(attribute), "{attribute} in {set}");
        }
        let value = set.split(';').next().unwrap().to_owned();
        assert!(value.starts_with("antaeus_console="), "{set}");
        browser.cookie = Some(value);
        browser
    }

    /// GETs `path` as a browser would (asking for HTML).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .get(format!("{}{path}", self.app.address))
            .header("accept", "text/html");
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request")
    }

    /// GETs `path`, asserting a 200, and returns its HTML.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.unwrap()
    }

    /// POSTs `form` to `path`, URL-encoded.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .post(format!("{}{path}", self.app.address))
            .form(form);
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("request")
    }

    /// The CSRF token in the forms of `path`.
    pub async fn csrf(&self, path: &str) -> String {
        let html = self.page(path).await;
        input_value(&html, "csrf").expect("a CSRF input")
    }
}

/// The value of the first input named `name` in `html`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let needle = format!(r#"name="{name}" value=""#);
    let at = html.find(&needle)? + needle.len();
    Some(html[at..at + html[at..].find('"')?].to_owned())
}

/// Where a 303 sends the browser.
pub fn location(response: &reqwest::Response) -> String {
    response.headers()[LOCATION].to_str().unwrap().to_owned()
}
