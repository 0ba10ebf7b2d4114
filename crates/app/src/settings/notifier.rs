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

/// Reads `ANTAEUS_WEBHOOK_URL`, `ANTAEUS_WEBHOOK_SECRET` and `ANTAEUS_WEBHOOK_TIMEOUT_MS`.
pub fn notifier_settings(env: &Env<'_>) -> Result<NotifierSettings, SettingsError> {
    let Some(url) = env.optional("ANTAEUS_WEBHOOK_URL") else {
        return Ok(NotifierSettings::Log);
    };
    let secret = env.optional("ANTAEUS_WEBHOOK_SECRET").ok_or_else(|| {
        invalid(
            "ANTAEUS_WEBHOOK_SECRET",
            "required with ANTAEUS_WEBHOOK_URL: receivers verify the Antaeus-Signature with it",
        )
    })?;
    Ok(NotifierSettings::Webhook(WebhookConfig {
        url,
        secret,
        timeout: env.millis("ANTAEUS_WEBHOOK_TIMEOUT_MS", 5_000, 1, 600_000)?,
    }))
}
