//! Where billing events go (`ANTAEUS_WEBHOOK_URL`): the log by default, or a signed webhook.

use super::SettingsError;
use super::env::{Env, invalid};
use crate::notify::WebhookConfig;

/// The notifier settings.
#[derive(Debug, Clone)]
pub enum NotifierSettings {
    /// Events are written to the log.
    Log,
    /// Events are POSTed to a webhook (its `Debug` hides the secret).
    Webhook(WebhookConfig),
}

const SECRET_VAR: &str = "ANTAEUS_WEBHOOK_SECRET";

/// Most secrets `ANTAEUS_WEBHOOK_SECRET` may list: the old and the new one of a rotation.
const MAX_SECRETS: usize = 2;

/// Reads `ANTAEUS_WEBHOOK_URL`, `ANTAEUS_WEBHOOK_SECRET` and `ANTAEUS_WEBHOOK_TIMEOUT_MS`.
pub fn notifier_settings(env: &Env<'_>) -> Result<NotifierSettings, SettingsError> {
    let Some(url) = env.optional("ANTAEUS_WEBHOOK_URL") else {
        return Ok(NotifierSettings::Log);
    };
    let secrets = env.optional(SECRET_VAR).ok_or_else(|| {
        invalid(
            SECRET_VAR,
            "required with ANTAEUS_WEBHOOK_URL: receivers verify the Antaeus-Signature with it",
        )
    })?;
    Ok(NotifierSettings::Webhook(WebhookConfig {
        url,
        secrets: webhook_secrets(&secrets)?,
        timeout: env.millis("ANTAEUS_WEBHOOK_TIMEOUT_MS", 5_000, 1, 600_000)?,
    }))
}

/// The signing secrets: one, or two comma-separated while one is rotated (each signs every
/// event). Empty entries and spaces around an entry are refused; messages never quote a secret.
fn webhook_secrets(list: &str) -> Result<Vec<String>, SettingsError> {
    let entries: Vec<&str> = list.split(',').collect();
    let count = entries.len();
    if count > MAX_SECRETS {
        return Err(invalid(
            SECRET_VAR,
            format!(
                "{count} secrets listed: at most {MAX_SECRETS}, the old and the new one while it is rotated"
            ),
        ));
    }
    for (i, entry) in entries.iter().enumerate() {
        let position = i + 1;
        if entry.trim().is_empty() {
            return Err(invalid(
                SECRET_VAR,
                format!(
                    "secret {position} of {count} is empty: separate two secrets with one comma"
                ),
            ));
        }
        if entry.trim() != *entry {
            return Err(invalid(
                SECRET_VAR,
                format!(
                    "secret {position} of {count} starts or ends with whitespace: separate two secrets with a comma and no spaces"
                ),
            ));
        }
    }
    Ok(entries.into_iter().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    use super::super::tests::load;
    use super::*;

    const URL: (&str, &str) = ("ANTAEUS_WEBHOOK_URL", "https://hooks.example/in");

    fn secrets_of(value: &str) -> Result<Vec<String>, SettingsError> {
        match load(&[URL, (SECRET_VAR, value)])?.notifier {
            NotifierSettings::Webhook(config) => Ok(config.secrets),
            NotifierSettings::Log => panic!("a URL is set"),
        }
    }

    #[test]
    fn one_secret_or_two_while_it_is_rotated() {
        assert_eq!(secrets_of("whsec_one").unwrap(), ["whsec_one"]);
        assert_eq!(
            secrets_of("whsec_old,whsec_new").unwrap(),
            ["whsec_old", "whsec_new"]
        );
    }

    #[test]
    fn empty_entries_spaces_and_a_third_secret_are_refused_without_quoting_a_secret() {
        for (value, says) in [
            ("whsec_s3cret,", "secret 2 of 2 is empty"),
            (",whsec_s3cret", "secret 1 of 2 is empty"),
            (
                "whsec_s3cret, whsec_other",
                "secret 2 of 2 starts or ends with whitespace",
            ),
            (
                "whsec_s3cret,whsec_b,whsec_c",
                "3 secrets listed: at most 2",
            ),
        ] {
            let err = secrets_of(value).unwrap_err();
            assert_eq!(err.var, SECRET_VAR, "{value:?}");
            let line = err.to_string();
            assert!(line.contains(says), "{line}");
            assert!(!line.contains("s3cret"), "{line}");
        }
    }
}
