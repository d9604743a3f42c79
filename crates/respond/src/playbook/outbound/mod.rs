//! The outbound services of playbook actions: notification channels (`notify`), forwarding
//! destinations (`forward`) and HTTP lookups (`enrich`), built from configuration into
//! [`Outbound`], which implements those three parts of [`ActionServices`].
//!
//! Kinds are one file each — `channel/webhook.rs`, `channel/email.rs`,
//! `destination/syslog.rs` (with `destination/cef.rs`), `destination/splunk_hec.rs`,
//! `destination/webhook.rs`, `lookup.rs` — registered in [`ChannelConfig`] and
//! [`DestinationConfig`]. Every HTTP service shares one client (`http.rs`).
//!
//! Failures tell the engine whether to retry: a refused connection, a timeout, HTTP 408, 429
//! or 5xx, an SMTP 4xx and a channel over its rate are retryable; another 4xx, an SMTP 5xx or
//! a configuration the request cannot be built from are not.

mod body;
mod channel;
mod destination;
mod http;
mod lookup;
mod rate;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use rampart_model::Indicator;
use serde::Deserialize;
use serde_json::Value;

pub use body::BodyTemplate;
pub use channel::{
    ChannelConfig, EmailChannelConfig, SmtpTls, WebhookChannelConfig, WebhookFormat,
};
pub use destination::{
    DestinationConfig, HttpMethod, SplunkHecConfig, SyslogConfig, SyslogTransport,
    WebhookDestinationConfig,
};
pub use http::HeaderConfig;
pub use lookup::LookupConfig;

use super::facts::Facts;
use super::load::References;
use super::services::{ActionError, ActionServices, CaseRequest, Message};

/// Where playbook actions send things: chat and mail channels, SIEM and ticketing
/// destinations, HTTP lookups. Every name must be unique within its kind; secrets are best
/// read from the environment (`env`, `token_env`, `password_env`), which happens once, when
/// [`Outbound::new`] builds the services.
///
/// ```toml
#[doc = include_str!("example.toml")]
/// ```
///
/// Each kind's fields are documented on its own struct: [`WebhookChannelConfig`],
/// [`EmailChannelConfig`], [`SyslogConfig`], [`SplunkHecConfig`],
/// [`WebhookDestinationConfig`], [`LookupConfig`], [`HeaderConfig`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Notification channels, for `notify: {channel: NAME}`.
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
    /// Forwarding destinations, for `forward: {to: NAME}`.
    #[serde(default)]
    pub destinations: Vec<DestinationConfig>,
    /// HTTP lookups, for `enrich: {lookups: [NAME]}`.
    #[serde(default)]
    pub lookups: Vec<LookupConfig>,
}

impl OutboundConfig {
    /// The names playbooks may use, for the loader's checks (block lists and case templates
    /// are configured elsewhere and left empty here).
    pub fn references(&self) -> References {
        References {
            channels: self.channels.iter().map(|c| c.name().to_owned()).collect(),
            destinations: self
                .destinations
                .iter()
                .map(|d| d.name().to_owned())
                .collect(),
            lookups: self.lookups.iter().map(|l| l.name.clone()).collect(),
            ..References::default()
        }
    }
}

/// A configuration the services cannot be built from: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{owner}: {reason}")]
pub struct OutboundError {
    /// `channel "soc-chat"`, `destination "splunk"`, `lookup "passive-dns"`…
    pub owner: String,
    pub reason: String,
}

impl OutboundError {
    pub(crate) fn new(owner: &str, reason: impl Into<String>) -> OutboundError {
        OutboundError {
            owner: owner.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The outbound services, built once from an [`OutboundConfig`] and shared by every run.
///
/// It answers `notify`, `forward` and `lookup` for the names it configures. Everything else —
/// `case`, `retro_hunt`, and a name it does not configure — goes to the services given with
/// [`Outbound::with_rest`] (the server's cases and event archive), or fails as "not set up"
/// when there are none:
///
/// ```no_run
/// # use std::sync::Arc;
/// # use rampart_respond::playbook::{ActionServices, NoServices, outbound::{Outbound, OutboundConfig}};
/// # fn server_services() -> Arc<dyn ActionServices> { Arc::new(NoServices) }
/// let config: OutboundConfig = OutboundConfig::default();
/// let services: Arc<dyn ActionServices> =
///     Arc::new(Outbound::new(&config)?.with_rest(server_services()));
/// # Ok::<(), rampart_respond::playbook::outbound::OutboundError>(())
/// ```
pub struct Outbound {
    channels: BTreeMap<String, RegisteredChannel>,
    destinations: BTreeMap<String, Box<dyn destination::Destination>>,
    lookups: BTreeMap<String, lookup::Lookup>,
    rest: Arc<dyn ActionServices>,
}

struct RegisteredChannel {
    channel: Box<dyn channel::Channel>,
    rate: rate::RateLimiter,
    per_minute: u32,
}

impl Outbound {
    /// Builds every channel, destination and lookup: URLs parsed, templates checked, secrets
    /// read from the environment. The first problem is the error.
    pub fn new(config: &OutboundConfig) -> Result<Outbound, OutboundError> {
        let client = http::client()?;
        let mut channels = BTreeMap::new();
        for config in &config.channels {
            let (per_minute, burst) = config.rate();
            let registered = RegisteredChannel {
                channel: config.build(&client)?,
                rate: rate::RateLimiter::new(per_minute, burst),
                per_minute,
            };
            unique(&mut channels, config.name(), registered, "channel")?;
        }
        let mut destinations = BTreeMap::new();
        for config in &config.destinations {
            unique(
                &mut destinations,
                config.name(),
                config.build(&client)?,
                "destination",
            )?;
        }
        let mut lookups = BTreeMap::new();
        for config in &config.lookups {
            if config.name == "store" {
                return Err(OutboundError::new(
                    "lookup \"store\"",
                    "the name is taken by Rampart's own store lookup",
                ));
            }
            let built = lookup::Lookup::new(config, client.clone())?;
            unique(&mut lookups, &config.name, built, "lookup")?;
        }
        Ok(Outbound {
            channels,
            destinations,
            lookups,
            rest: Arc::new(super::services::NoServices),
        })
    }

    /// The services that answer what this one does not configure: cases, retro-hunts, and
    /// channels, destinations or lookups of other names.
    pub fn with_rest(mut self, rest: Arc<dyn ActionServices>) -> Outbound {
        self.rest = rest;
        self
    }
}

fn unique<T>(
    map: &mut BTreeMap<String, T>,
    name: &str,
    built: T,
    what: &str,
) -> Result<(), OutboundError> {
    if name.trim().is_empty() {
        return Err(OutboundError::new(what, "a name is required"));
    }
    if map.insert(name.to_owned(), built).is_some() {
        return Err(OutboundError::new(
            &format!("{what} {name:?}"),
            "defined twice",
        ));
    }
    Ok(())
}

#[async_trait]
impl ActionServices for Outbound {
    async fn notify(&self, message: &Message) -> Result<Value, ActionError> {
        let Some(registered) = self.channels.get(&message.channel) else {
            return self.rest.notify(message).await;
        };
        if let Err(wait) = registered.rate.try_take() {
            return Err(ActionError::retryable(format!(
                "channel {:?}: rate limited ({} a minute); a message can go in {:.1} s",
                message.channel,
                registered.per_minute,
                wait.as_secs_f64()
            )));
        }
        registered.channel.send(message).await
    }

    async fn case(&self, request: &CaseRequest) -> Result<Value, ActionError> {
        self.rest.case(request).await
    }

    async fn retro_hunt(
        &self,
        values: &[Indicator],
        since: jiff::Timestamp,
        facts: &Facts,
    ) -> Result<Value, ActionError> {
        self.rest.retro_hunt(values, since, facts).await
    }

    async fn forward(&self, destination: &str, facts: &Facts) -> Result<Value, ActionError> {
        match self.destinations.get(destination) {
            Some(found) => found.forward(facts).await,
            None => self.rest.forward(destination, facts).await,
        }
    }

    async fn lookup(&self, lookup: &str, values: &[Indicator]) -> Result<Value, ActionError> {
        match self.lookups.get(lookup) {
            Some(found) => found.look_up(values).await,
            None => self.rest.lookup(lookup, values).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("example.toml");

    #[test]
    fn the_documented_example_parses_and_names_its_references() {
        let config: OutboundConfig = toml::from_str(EXAMPLE).expect("the example parses");
        let references = config.references();
        assert_eq!(
            references.channels.iter().collect::<Vec<_>>(),
            ["on-call", "soc-chat", "soc-mail"]
        );
        assert_eq!(
            references.destinations.iter().collect::<Vec<_>>(),
            ["arcsight", "jira", "splunk"]
        );
        assert_eq!(
            references.lookups.iter().collect::<Vec<_>>(),
            ["passive-dns"]
        );
        assert!(matches!(
            &config.channels[2],
            ChannelConfig::Email(email) if email.tls == Some(SmtpTls::Starttls)
        ));
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused() {
        let typo = "[[channels]]\nname = 'x'\nkind = 'webhook'\nurl = 'https://a.example/'\nformt = 'slack'\n";
        let err = toml::from_str::<OutboundConfig>(typo).unwrap_err();
        assert!(err.to_string().contains("unknown field `formt`"), "{err}");
        let kind = "[[destinations]]\nname = 'x'\nkind = 'kafka'\n";
        let err = toml::from_str::<OutboundConfig>(kind).unwrap_err();
        assert!(err.to_string().contains("unknown variant `kafka`"), "{err}");
        let top = "[[channel]]\nname = 'x'\n";
        assert!(toml::from_str::<OutboundConfig>(top).is_err());
    }

    #[test]
    fn names_are_unique_within_a_kind() {
        let twice = "[[channels]]\nname = 'chat'\nkind = 'webhook'\nurl = 'https://a.example/'\n\
                     [[channels]]\nname = 'chat'\nkind = 'webhook'\nurl = 'https://b.example/'\n";
        let config: OutboundConfig = toml::from_str(twice).unwrap();
        let err = Outbound::new(&config).err().expect("refused");
        assert_eq!(err.to_string(), "channel \"chat\": defined twice");
        let store = "[[lookups]]\nname = 'store'\nurl = 'https://a.example/{{value}}'\n";
        let config: OutboundConfig = toml::from_str(store).unwrap();
        assert!(Outbound::new(&config).is_err());
    }
}
