//! Where signing in returns to: the console page that asked for it, carried as `next` through
//! the sign-in page and its form.
//!
//! Only a console path on this site is honoured, so a link to the sign-in page cannot send a
//! freshly signed-in operator elsewhere (an open redirect): `next` must start with `/console`,
//! must not start with `//` or hold a backslash (browsers read both as another host), must be
//! visible ASCII (no header injection) and must not climb out with `..`. Anything else falls
//! back to the overview.

use actix_web::HttpRequest;

/// Where a sign-in goes when it has no valid `next`.
pub const OVERVIEW: &str = "/console";

/// The longest `next` honoured.
const MAX_LEN: usize = 2_048;

/// The page `req` asked for, to return to after signing in; `None` for the overview itself.
pub fn of_request(req: &HttpRequest) -> Option<String> {
    let asked = req.uri().path_and_query()?.as_str();
    safe(asked)
        .filter(|path| !matches!(*path, "/console" | "/console/"))
        .map(str::to_owned)
}

/// `next` if it is a console path on this site, else `None`.
pub fn safe(next: &str) -> Option<&str> {
    let rest = next.strip_prefix(OVERVIEW)?;
    let console_path = rest.is_empty() || rest.starts_with('/') || rest.starts_with('?');
    let plain = next.len() <= MAX_LEN
        && next.bytes().all(|b| b.is_ascii_graphic())
        && !next.contains('\\')
        && !next.contains("//")
        && !next.split(['/', '?']).any(|segment| segment == "..");
    let sign_in = rest.starts_with("/sign-in");
    (console_path && plain && !sign_in).then_some(next)
}

/// The sign-in page's address, carrying `next` when there is one.
pub fn sign_in_page(next: Option<&str>) -> String {
    match next.and_then(safe) {
        Some(next) => format!(
            "/console/sign-in?{}",
            serde_urlencoded::to_string([("next", next)]).unwrap_or_default()
        ),
        None => "/console/sign-in".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use actix_web::test::TestRequest;

    use super::*;

    #[test]
    fn console_paths_are_honoured() {
        for next in [
            "/console",
            "/console/runs",
            "/console/runs/7",
            "/console/invoices?status=FAILED&currency=EUR",
            "/console?flash=x",
            "/console/invoices?q=a%2Fb",
        ] {
            assert_eq!(safe(next), Some(next), "{next}");
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_or_the_console_is_refused() {
        for next in [
            "//evil.example",
            "//evil.example/console",
            "/\\evil.example",
            "/console\\..\\..\\evil",
            "https://evil.example/console",
            "http:/evil.example",
            "console/runs",
            "/consoleevil",
            "/console//evil.example",
            "/console/../rest/v1/invoices",
            "/console/runs/..",
            "/console/runs\r\nSet-Cookie: x=1",
            "/console/r uns",
            "/console/caf\u{e9}",
            "/console/sign-in",
            "/console/sign-in?next=/console/runs",
            "/rest/v1/invoices",
            "",
        ] {
            assert_eq!(safe(next), None, "{next:?}");
        }
        assert_eq!(safe(&format!("/console/{}", "a".repeat(MAX_LEN))), None);
    }

    #[test]
    fn the_sign_in_address_carries_a_safe_next_encoded() {
        assert_eq!(
            sign_in_page(Some("/console/invoices?status=PAID&currency=EUR")),
            "/console/sign-in?next=%2Fconsole%2Finvoices%3Fstatus%3DPAID%26currency%3DEUR"
        );
        assert_eq!(sign_in_page(Some("//evil.example")), "/console/sign-in");
        assert_eq!(sign_in_page(None), "/console/sign-in");
    }

    #[test]
    fn the_page_asked_for_is_its_path_and_query_and_the_overview_is_none() {
        let asked = |uri: &str| of_request(&TestRequest::get().uri(uri).to_http_request());
        assert_eq!(
            asked("/console/runs/3?x=1"),
            Some("/console/runs/3?x=1".into())
        );
        assert_eq!(asked("/console"), None);
        assert_eq!(asked("/console/"), None);
    }
}
