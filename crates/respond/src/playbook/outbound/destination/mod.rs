//! Forwarding destinations, one file per kind: `syslog` (CEF in RFC 5424, UDP or TCP),
//! `splunk_hec` (Splunk's HTTP Event Collector) and `webhook` (a JSON body template, for
//! ticketing systems). Each implements [`Destination`]; [`DestinationConfig`] is where a kind
//! is registered.

mod cef;
mod splunk_hec;
mod syslog;
mod webhook;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

pub use splunk_hec::SplunkHecConfig;
pub use syslog::{SyslogConfig, SyslogTransport};
pub use webhook::{HttpMethod, WebhookDestinationConfig};

use super::OutboundError;
use crate::playbook::facts::Facts;
use crate::playbook::services::ActionError;

/// Sends a run's facts on; answers what the receiver said.
#[async_trait]
pub(crate) trait Destination: Send + Sync {
    async fn forward(&self, facts: &Facts) -> Result<Value, ActionError>;
}

/// One forwarding destination (`[[destinations]]`), by `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DestinationConfig {
    /// A syslog collector, CEF records.
    Syslog(SyslogConfig),
    /// Splunk's HTTP Event Collector.
    SplunkHec(SplunkHecConfig),
    /// Any HTTP endpoint taking JSON: a ticket, an incident, a SOAR webhook.
    Webhook(WebhookDestinationConfig),
}

impl DestinationConfig {
    /// The name playbooks use in `forward: {to: NAME}`.
    pub fn name(&self) -> &str {
        match self {
            DestinationConfig::Syslog(config) => &config.name,
            DestinationConfig::SplunkHec(config) => &config.name,
            DestinationConfig::Webhook(config) => &config.name,
        }
    }

    pub(crate) fn build(
        &self,
        client: &reqwest::Client,
    ) -> Result<Box<dyn Destination>, OutboundError> {
        let owner = format!("destination {:?}", self.name());
        Ok(match self {
            DestinationConfig::Syslog(config) => {
                Box::new(syslog::SyslogDestination::new(config, owner)?)
            }
            DestinationConfig::SplunkHec(config) => {
                Box::new(splunk_hec::SplunkHec::new(config, client.clone(), owner)?)
            }
            DestinationConfig::Webhook(config) => Box::new(webhook::WebhookDestination::new(
                config,
                client.clone(),
                owner,
            )?),
        })
    }
}

/// This machine's name, for the records' host fields (`rampart` when it cannot be read).
fn this_host() -> String {
    hostname::get()
        .ok()
        .and_then(|name| name.into_string().ok())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "rampart".to_owned())
}
