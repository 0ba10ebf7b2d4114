//! The accessibility audit that runs inside a page (audit.js).

/// A script for WebDriver's execute: checks labelled controls, `<th>` in tables, named buttons
/// and links, and labelled `role=img` charts; returns the problems found as a list of strings.
pub const AUDIT: &str = include_str!("audit.js");
