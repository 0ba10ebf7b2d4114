//! The frame of every console page: head, navigation, flash message, security headers.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use maud::{DOCTYPE, Markup, html};

use super::access::Access;
use super::flash::Flash;

/// The page's chrome: who is looking and what to say about the last action.
pub struct Chrome {
    /// What the viewer may do.
    pub access: Access,
    /// The CSRF token of the viewer's session, for forms.
    pub csrf: Option<String>,
    /// The outcome of the action that led here.
    pub flash: Option<Flash>,
}

impl Chrome {
    /// A hidden `csrf` input, when the session has a token.
    pub fn csrf_input(&self) -> Markup {
        html! {
            @if let Some(csrf) = &self.csrf {
                input type="hidden" name="csrf" value=(csrf);
            }
        }
    }
}

fn head(title: &str, refresh: bool) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            @if refresh {
                meta http-equiv="refresh" content="2";
            }
            title { (title) " · Antaeus" }
            link rel="stylesheet" href="/console/assets/console.css";
            script src="/console/assets/console.js" defer {}
        }
    }
}

/// The part of the console a page belongs to: its navigation link is marked current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// `/console`.
    Overview,
    /// `/console/runs…`.
    Runs,
    /// `/console/invoices…`.
    Invoices,
    /// `/console/customers…`.
    Customers,
}

const SECTIONS: [(Section, &str, &str); 4] = [
    (Section::Overview, "/console", "Overview"),
    (Section::Runs, "/console/runs", "Runs"),
    (Section::Invoices, "/console/invoices", "Invoices"),
    (Section::Customers, "/console/customers", "Customers"),
];

fn nav(current: Option<Section>, signed_in: bool, csrf: Option<&str>) -> Markup {
    html! {
        header {
            nav aria-label="Console" {
                span.brand { "Antaeus" }
                ul {
                    @for (section, href, text) in SECTIONS {
                        li {
                            @if current == Some(section) {
                                a href=(href) aria-current="page" { (text) }
                            } @else {
                                a href=(href) { (text) }
                            }
                        }
                    }
                }
                @if signed_in {
                    form.sign-out method="post" action="/console/sign-out" {
                        @if let Some(csrf) = csrf {
                            input type="hidden" name="csrf" value=(csrf);
                        }
                        button type="submit" { "Sign out" }
                    }
                }
            }
        }
    }
}

/// A full page: `h1` is `title`; `refresh` reloads it every 2 seconds (a RUNNING run).
pub fn page(section: Section, title: &str, chrome: &Chrome, refresh: bool, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, refresh))
            body {
                (nav(Some(section), chrome.access.signed_in(), chrome.csrf.as_deref()))
                main #main {
                    h1 { (title) }
                    @if let Some(flash) = &chrome.flash {
                        (flash.render())
                    }
                    (body)
                }
            }
        }
    }
}

/// A page outside a session (sign-in, errors): the navigation without "Sign out".
pub fn bare_page(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title, false))
            body {
                (nav(None, false, None))
                main #main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// An HTML response with `status`.
pub fn html_response(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ))
        .body(markup.into_string())
}

/// A 200 HTML response.
pub fn ok(markup: Markup) -> HttpResponse {
    html_response(StatusCode::OK, markup)
}

impl Chrome {
    /// The chrome of a page seen with `access`, with the flash the request's query names.
    pub fn new(access: Access, state: &super::ConsoleState, req: &actix_web::HttpRequest) -> Self {
        Self {
            csrf: access.csrf(state),
            flash: super::sign_in::flash_of(req),
            access,
        }
    }

    /// What stands where action buttons would: nothing for an operator, a note otherwise.
    pub fn actions_note(&self) -> Markup {
        html! {
            @match &self.access {
                Access::Open => p #actions-disabled.note { (super::access::ACTIONS_DISABLED) },
                Access::Signed(_) if !self.access.can_act() => p.note { "Signed in with the read token: actions need the API token." },
                Access::Signed(_) => {},
            }
        }
    }
}
