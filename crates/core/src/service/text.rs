//! Checks of free text a service stores (names, emails, references, descriptions), so that
//! every way in (the API, an import, a library user) refuses what storage would choke on.

use super::ServiceError;

/// Refuses `value` of `field` when it holds a NUL or another control character other than a
/// newline or a tab (PostgreSQL refuses NUL bytes in text; the rest is never meant).
pub(crate) fn check_text(field: &str, value: Option<&str>) -> Result<(), ServiceError> {
    match value {
        Some(text)
            if text
                .chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t') =>
        {
            Err(ServiceError::Invalid(format!(
                "{field} must not contain control characters"
            )))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_and_control_characters_are_refused_lines_and_tabs_kept() {
        assert!(check_text("name", Some("Acme\0")).is_err());
        assert!(check_text("name", Some("bell\u{7}")).is_err());
        assert!(check_text("description", Some("two\nlines\tand a tab")).is_ok());
        assert!(check_text("email", None).is_ok());
    }
}
