//! `kind = "splunk_hec"`: the run's facts as one event through Splunk's HTTP Event Collector,
//! `POST …/services/collector/event` with `Authorization: Splunk TOKEN` and the body
//! `{"time", "host", "source", "sourcetype", "index", "event": {…facts…}}`.

use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::super::OutboundError;
use super::super::http::{self, env_secret};
use super::Destination;
use crate::playbook::definition::Span;
use crate::playbook::facts::Facts;
use crate::playbook::services::ActionError;

/// A Splunk HTTP Event Collector.
///
/// ```toml
/// [[destinations]]
/// name = "splunk"
/// kind = "splunk_hec"
/// url = "https://splunk.example.org:8088/services/collector/event"
/// token_env = "RAMPART_HEC_TOKEN"
/// index = "security"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplunkHecConfig {
    /// The name playbooks use in `forward: {to: NAME}`.
    pub name: String,
    /// The collector's event endpoint, `…/services/collector/event`.
    pub url: String,
    /// The environment variable holding the HEC token.
    pub token_env: String,
    /// The index events go to (default: the token's).
    #[serde(default)]
    pub index: Option<String>,
    /// The events' sourcetype (default `rampart:alert`).
    #[serde(default = "default_sourcetype")]
    pub sourcetype: String,
    /// The events' source (default `rampart`).
    #[serde(default = "default_source")]
    pub source: String,
    /// The events' host (default: this machine's name).
    #[serde(default)]
    pub host: Option<String>,
    /// How long to wait for the collector (default `10s`, at most `60s`).
    #[serde(default = "ten_seconds")]
    pub timeout: Span,
}

fn default_sourcetype() -> String {
    "rampart:alert".to_owned()
}

fn default_source() -> String {
    "rampart".to_owned()
}

fn ten_seconds() -> Span {
    Span(SignedDuration::from_secs(10))
}

pub(super) struct SplunkHec {
    owner: String,
    client: reqwest::Client,
    url: Url,
    authorization: HeaderValue,
    index: Option<String>,
    sourcetype: String,
    source: String,
    host: String,
    timeout: Duration,
}

impl SplunkHec {
    pub(super) fn new(
        config: &SplunkHecConfig,
        client: reqwest::Client,
        owner: String,
    ) -> Result<SplunkHec, OutboundError> {
        let token = env_secret(&config.token_env, &owner)?;
        let mut authorization =
            HeaderValue::from_str(&format!("Splunk {token}")).map_err(|_| {
                OutboundError::new(&owner, "the HEC token has characters a header cannot hold")
            })?;
        authorization.set_sensitive(true);
        Ok(SplunkHec {
            url: http::url(&config.url, &owner)?,
            timeout: http::timeout(config.timeout, &owner)?,
            authorization,
            index: config.index.clone(),
            sourcetype: config.sourcetype.clone(),
            source: config.source.clone(),
            host: config.host.clone().unwrap_or_else(super::this_host),
            client,
            owner,
        })
    }

    /// The HEC envelope around the facts, `time` in seconds with milliseconds.
    fn envelope(&self, facts: &Facts, now: Timestamp) -> Value {
        let mut body = Map::new();
        body.insert("time".into(), json!(now.as_millisecond() as f64 / 1000.0));
        body.insert("host".into(), json!(self.host));
        body.insert("source".into(), json!(self.source));
        body.insert("sourcetype".into(), json!(self.sourcetype));
        if let Some(index) = &self.index {
            body.insert("index".into(), json!(index));
        }
        body.insert("event".into(), facts.root().clone());
        Value::Object(body)
    }
}

#[async_trait]
impl Destination for SplunkHec {
    async fn forward(&self, facts: &Facts) -> Result<Value, ActionError> {
        let request = self
            .client
            .post(self.url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .json(&self.envelope(facts, Timestamp::now()));
        let answer = http::send(request, self.timeout, &self.owner).await?;
        // HEC acknowledges with `{"text":"Success","code":0}`; that is the result.
        Ok(answer
            .json_or_text()
            .unwrap_or_else(|| json!({ "status": answer.status.as_u16() })))
    }
}
