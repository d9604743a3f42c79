//! `kind = "webhook"`: the run's facts as a ticket or an event in another system — a JSON body
//! template POSTed or PUT to a URL (a Jira issue, a ServiceNow incident, a SOAR's webhook).
//! Without a body template the facts themselves are sent.

use std::time::Duration;

use async_trait::async_trait;
use jiff::SignedDuration;
use reqwest::Url;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::OutboundError;
use super::super::body::{self, BodyTemplate};
use super::super::http::{self, HeaderConfig};
use super::Destination;
use crate::playbook::definition::Span;
use crate::playbook::facts::Facts;
use crate::playbook::services::ActionError;

/// A templated webhook destination. Placeholders read the run's facts and sit inside JSON
/// strings, where they are escaped. A Jira issue:
///
/// ```toml
/// [[destinations]]
/// name = "jira"
/// kind = "webhook"
/// url = "https://jira.example.org/rest/api/2/issue"
/// headers = [{ name = "Authorization", env = "JIRA_TOKEN", prefix = "Bearer " }]
/// body = '''
/// {"fields": {"project": {"key": "SOC"}, "issuetype": {"name": "Incident"},
///             "summary": "{{alert.rule}} on {{alert.host}}",
///             "description": "Rampart alert {{alert.id}}: {{alert.matched}}"}}
/// '''
/// ```
///
/// A ServiceNow incident:
///
/// ```toml
/// [[destinations]]
/// name = "servicenow"
/// kind = "webhook"
/// url = "https://example.service-now.com/api/now/table/incident"
/// headers = [{ name = "Authorization", env = "SNOW_BASIC_AUTH", prefix = "Basic " }]
/// body = '{"short_description": "{{alert.rule}}", "description": "{{alert.matched}}", "urgency": "2"}'
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookDestinationConfig {
    /// The name playbooks use in `forward: {to: NAME}`.
    pub name: String,
    /// Where to send.
    pub url: String,
    /// `POST` (default) or `PUT`.
    #[serde(default)]
    pub method: HttpMethod,
    /// The JSON body; default: the run's facts as they are.
    #[serde(default)]
    pub body: Option<BodyTemplate>,
    /// Headers sent with each request (a token from the environment).
    #[serde(default)]
    pub headers: Vec<HeaderConfig>,
    /// How long to wait for the answer (default `10s`, at most `60s`).
    #[serde(default = "ten_seconds")]
    pub timeout: Span,
}

/// The HTTP method of a webhook destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum HttpMethod {
    #[default]
    #[serde(rename = "POST", alias = "post")]
    Post,
    #[serde(rename = "PUT", alias = "put")]
    Put,
}

fn ten_seconds() -> Span {
    Span(SignedDuration::from_secs(10))
}

pub(super) struct WebhookDestination {
    owner: String,
    client: reqwest::Client,
    url: Url,
    method: reqwest::Method,
    body: Option<BodyTemplate>,
    headers: HeaderMap,
    timeout: Duration,
}

impl WebhookDestination {
    pub(super) fn new(
        config: &WebhookDestinationConfig,
        client: reqwest::Client,
        owner: String,
    ) -> Result<WebhookDestination, OutboundError> {
        if let Some(template) = &config.body {
            body::check(template, &owner)?;
        }
        Ok(WebhookDestination {
            url: http::url(&config.url, &owner)?,
            method: match config.method {
                HttpMethod::Post => reqwest::Method::POST,
                HttpMethod::Put => reqwest::Method::PUT,
            },
            body: config.body.clone(),
            headers: http::headers(&config.headers, &owner)?,
            timeout: http::timeout(config.timeout, &owner)?,
            client,
            owner,
        })
    }
}

#[async_trait]
impl Destination for WebhookDestination {
    async fn forward(&self, facts: &Facts) -> Result<Value, ActionError> {
        let payload = match &self.body {
            Some(template) => body::render(template, facts, &self.owner)?,
            None => facts.root().clone(),
        };
        let request = self
            .client
            .request(self.method.clone(), self.url.clone())
            .headers(self.headers.clone())
            .json(&payload);
        let answer = http::send(request, self.timeout, &self.owner).await?;
        // The created ticket (Jira's `{"id", "key"}`, ServiceNow's `{"result": …}`) if any.
        let mut result = json!({ "status": answer.status.as_u16() });
        if let Some(body) = answer.json_or_text() {
            result["answer"] = body;
        }
        Ok(result)
    }
}
