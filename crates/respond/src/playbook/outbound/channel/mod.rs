//! Notification channels, one file per kind: `webhook` (Slack, Teams, Mattermost, plain JSON or
//! a body of your own) and `email` (SMTP). Each implements [`Channel`]; [`ChannelConfig`] is
//! where a kind is registered.

mod email;
mod webhook;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

pub use email::{EmailChannelConfig, SmtpTls};
pub use webhook::{WebhookChannelConfig, WebhookFormat};

use super::OutboundError;
use crate::playbook::services::{ActionError, Message};

/// Sends a notification; answers what the receiver said (`{"status": 200}`, the SMTP reply).
#[async_trait]
pub(crate) trait Channel: Send + Sync {
    async fn send(&self, message: &Message) -> Result<Value, ActionError>;
}

/// One notification channel (`[[channels]]`), by `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChannelConfig {
    /// An HTTP POST of JSON: a chat's incoming webhook, or any receiver of JSON.
    Webhook(WebhookChannelConfig),
    /// A mail through an SMTP server.
    Email(EmailChannelConfig),
}

/// How many messages a minute a channel takes unless told otherwise.
pub(crate) fn default_rate_per_minute() -> u32 {
    30
}

impl ChannelConfig {
    /// The name playbooks use in `notify: {channel: NAME}`.
    pub fn name(&self) -> &str {
        match self {
            ChannelConfig::Webhook(config) => &config.name,
            ChannelConfig::Email(config) => &config.name,
        }
    }

    /// Messages a minute, and how many may go at once.
    pub(crate) fn rate(&self) -> (u32, u32) {
        let (per_minute, burst) = match self {
            ChannelConfig::Webhook(config) => (config.rate_per_minute, config.burst),
            ChannelConfig::Email(config) => (config.rate_per_minute, config.burst),
        };
        (per_minute, burst.unwrap_or(per_minute))
    }

    pub(crate) fn build(
        &self,
        client: &reqwest::Client,
    ) -> Result<Box<dyn Channel>, OutboundError> {
        let owner = format!("channel {:?}", self.name());
        let (per_minute, burst) = self.rate();
        if per_minute == 0 || burst == 0 {
            return Err(OutboundError::new(
                &owner,
                "rate_per_minute and burst must be at least 1",
            ));
        }
        Ok(match self {
            ChannelConfig::Webhook(config) => {
                Box::new(webhook::WebhookChannel::new(config, client.clone(), owner)?)
            }
            ChannelConfig::Email(config) => Box::new(email::EmailChannel::new(config, owner)?),
        })
    }
}
