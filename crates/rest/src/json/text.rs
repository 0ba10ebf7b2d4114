//! The text fields of request bodies, checked at the door: a bad one is a 400 naming the field,
//! never a database error. Empty text is refused (omit the field, or send `null` to clear it).

use antaeus_core::service::MAX_DESCRIPTION;
use antaeus_models::ExternalId;

use crate::ApiError;

/// The longest name, in characters.
pub const MAX_NAME: usize = 255;
/// The longest email address, in characters (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// The longest provider reference.
pub const MAX_REFERENCE: usize = 255;

/// An external id: 1 to 255 visible ASCII characters.
pub fn external_id(field: &str, raw: String) -> Result<ExternalId, ApiError> {
    ExternalId::parse(raw).map_err(|e| bad(field, &e.to_string()))
}

/// A name: 1 to [`MAX_NAME`] characters on one line.
pub fn name(field: &str, raw: String) -> Result<String, ApiError> {
    one_line(field, &raw, MAX_NAME)?;
    Ok(raw)
}

/// An email address: `local@domain`, at most [`MAX_EMAIL`] characters, no spaces. Whether it
/// reaches anyone is the sender's business.
pub fn email(field: &str, raw: String) -> Result<String, ApiError> {
    one_line(field, &raw, MAX_EMAIL)?;
    let well_formed = raw
        .rsplit_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !raw.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(bad(
            field,
            "expected an email address such as billing@example.com",
        ));
    }
    Ok(raw)
}

/// A payment provider's reference (`cus_…`, `pm_…`): 1 to [`MAX_REFERENCE`] visible ASCII
/// characters.
pub fn reference(field: &str, raw: String) -> Result<String, ApiError> {
    if raw.is_empty() || raw.len() > MAX_REFERENCE || !raw.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(
            field,
            &format!("expected 1 to {MAX_REFERENCE} visible ASCII characters"),
        ));
    }
    Ok(raw)
}

/// A description: 1 to `MAX_DESCRIPTION` bytes; line breaks and tabs are kept, other control
/// characters refused.
pub fn description(field: &str, raw: String) -> Result<String, ApiError> {
    if raw.is_empty() || raw.len() > MAX_DESCRIPTION {
        return Err(bad(
            field,
            &format!("expected 1 to {MAX_DESCRIPTION} bytes of text"),
        ));
    }
    if raw
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(bad(field, "contains a control character"));
    }
    Ok(raw)
}

/// Refuses empty text, text over `max` characters, and control characters.
fn one_line(field: &str, raw: &str, max: usize) -> Result<(), ApiError> {
    if raw.is_empty() || raw.chars().count() > max {
        return Err(bad(field, &format!("expected 1 to {max} characters")));
    }
    if raw.chars().any(char::is_control) {
        return Err(bad(field, "contains a control character"));
    }
    Ok(())
}

fn bad(field: &str, why: &str) -> ApiError {
    ApiError::BadRequest(format!("{field}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_text_is_kept_as_given() {
        assert_eq!(name("name", "Ærø Café".into()).unwrap(), "Ærø Café");
        assert_eq!(name("name", "x".repeat(255)).unwrap().len(), 255);
        assert_eq!(name("name", "é".repeat(255)).unwrap().chars().count(), 255);
        assert!(email("email", "billing@acme.test".into()).is_ok());
        assert!(email("email", "a@b".into()).is_ok());
        assert!(reference("provider.customerRef", "cus_9s8d7f".into()).is_ok());
        assert!(description("description", "Line 1\nLine 2\tend".into()).is_ok());
        assert!(external_id("externalId", "acme-42".into()).is_ok());
    }

    #[test]
    fn bad_text_is_refused_naming_the_field() {
        let refused = [
            name("name", String::new()),
            name("name", "x".repeat(256)),
            name("name", "a\u{0}b".into()),
            name("name", "two\nlines".into()),
            email("email", "nobody".into()),
            email("email", "@acme.test".into()),
            email("email", "billing@".into()),
            email("email", "bill ing@acme.test".into()),
            email("email", format!("{}@acme.test", "x".repeat(250))),
            reference("provider.customerRef", String::new()),
            reference("provider.customerRef", "cus 1".into()),
            reference("provider.customerRef", "cus_é".into()),
            reference("provider.customerRef", "c".repeat(256)),
            description("description", String::new()),
            description("description", "x".repeat(MAX_DESCRIPTION + 1)),
            description("description", "nul\u{0}".into()),
            external_id("externalId", "has space".into()).map(|e| e.to_string()),
            external_id("externalId", String::new()).map(|e| e.to_string()),
        ];
        for result in refused {
            let err = result.unwrap_err().to_string();
            assert!(
                [
                    "name:",
                    "email:",
                    "provider.customerRef:",
                    "description:",
                    "externalId:"
                ]
                .iter()
                .any(|f| err.starts_with(f)),
                "{err}"
            );
        }
    }
}
