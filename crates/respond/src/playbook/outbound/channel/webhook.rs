//! `kind = "webhook"`: a message as an HTTP POST of JSON, shaped for the receiver — a Slack or
//! Mattermost incoming webhook (`{"text": …}`), a Teams incoming webhook (a MessageCard), a
//! plain JSON object, or a body template of the operator's own.

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
use super::{Channel, default_rate_per_minute};
use crate::playbook::definition::Span;
use crate::playbook::services::{ActionError, Message};

/// A webhook channel.
///
/// ```toml
/// [[channels]]
/// name = "soc-chat"
/// kind = "webhook"
/// url = "https://hooks.slack.com/services/T000/B000/XXXX"
/// format = "slack"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookChannelConfig {
    /// The name playbooks use in `notify: {channel: NAME}`.
    pub name: String,
    /// Where to POST. A chat's webhook URL usually holds its secret: it is never logged.
    pub url: String,
    /// The shape of the body: `slack`, `teams`, `mattermost` or `json` (the default, or when
    /// `body` is given).
    #[serde(default)]
    pub format: Option<WebhookFormat>,
    /// A JSON body of your own instead of a format. Placeholders sit inside JSON strings and
    /// are escaped there: `{{subject}}`, `{{text}}`, `{{channel}}`, and the run's facts
    /// (`{{alert.rule}}`, `{{indicator.value}}`).
    #[serde(default)]
    pub body: Option<BodyTemplate>,
    /// Headers sent with each message (a token from the environment).
    #[serde(default)]
    pub headers: Vec<HeaderConfig>,
    /// How long to wait for the receiver's answer (default `10s`, at most `60s`).
    #[serde(default = "ten_seconds")]
    pub timeout: Span,
    /// Messages a minute this channel takes (default 30); more fail as "rate limited" and
    /// the run retries them later: none is dropped.
    #[serde(default = "default_rate_per_minute")]
    pub rate_per_minute: u32,
    /// How many messages may go at once before the rate applies (default: `rate_per_minute`).
    #[serde(default)]
    pub burst: Option<u32>,
}

/// The body's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// Slack incoming webhook: `{"text": "*subject*\ntext"}`; `&`, `<` and `>` are written as
    /// Slack's entities, so no value can mention `<!channel>` or forge a link.
    Slack,
    /// Microsoft Teams incoming webhook: a MessageCard with the subject as title and summary.
    Teams,
    /// Mattermost incoming webhook: `{"text": "**subject**\ntext"}`. Mattermost has no
    /// escape for its mentions: a value reading `@channel` notifies the channel.
    Mattermost,
    /// `{"channel": …, "subject": …, "text": …, "facts": {…}}`.
    Json,
}

fn ten_seconds() -> Span {
    Span(SignedDuration::from_secs(10))
}

pub(super) struct WebhookChannel {
    owner: String,
    client: reqwest::Client,
    url: Url,
    headers: HeaderMap,
    timeout: Duration,
    shape: Shape,
}

enum Shape {
    Format(WebhookFormat),
    Body(BodyTemplate),
}

impl WebhookChannel {
    pub(super) fn new(
        config: &WebhookChannelConfig,
        client: reqwest::Client,
        owner: String,
    ) -> Result<WebhookChannel, OutboundError> {
        let shape = match (&config.body, config.format) {
            (Some(template), None | Some(WebhookFormat::Json)) => {
                body::check(template, &owner)?;
                Shape::Body(template.clone())
            }
            (Some(_), Some(_)) => {
                return Err(OutboundError::new(
                    &owner,
                    "give a `format` or a `body`, not both",
                ));
            }
            (None, format) => Shape::Format(format.unwrap_or(WebhookFormat::Json)),
        };
        Ok(WebhookChannel {
            url: http::url(&config.url, &owner)?,
            headers: http::headers(&config.headers, &owner)?,
            timeout: http::timeout(config.timeout, &owner)?,
            client,
            shape,
            owner,
        })
    }

    fn payload(&self, message: &Message) -> Result<Value, ActionError> {
        Ok(match &self.shape {
            Shape::Format(format) => formatted(*format, message),
            Shape::Body(template) => {
                let mut facts = message.facts.clone();
                facts.insert("subject", json!(message.subject));
                facts.insert("text", json!(message.text));
                facts.insert("channel", json!(message.channel));
                body::render(template, &facts, &self.owner)?
            }
        })
    }
}

#[async_trait]
impl Channel for WebhookChannel {
    async fn send(&self, message: &Message) -> Result<Value, ActionError> {
        let payload = self.payload(message)?;
        let request = self
            .client
            .post(self.url.clone())
            .headers(self.headers.clone())
            .json(&payload);
        let answer = http::send(request, self.timeout, &self.owner).await?;
        Ok(json!({ "status": answer.status.as_u16() }))
    }
}

/// The body of a format.
fn formatted(format: WebhookFormat, message: &Message) -> Value {
    match format {
        WebhookFormat::Slack => json!({
            "text": format!(
                "*{}*\n{}",
                slack_escape(&message.subject),
                slack_escape(&message.text)
            ),
        }),
        WebhookFormat::Mattermost => json!({
            "text": format!("**{}**\n{}", message.subject, message.text),
        }),
        WebhookFormat::Teams => json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": message.subject,
            "title": message.subject,
            "text": message.text,
        }),
        WebhookFormat::Json => json!({
            "channel": message.channel,
            "subject": message.subject,
            "text": message.text,
            "facts": message.facts.root(),
        }),
    }
}

/// Slack reads `<…>` as a link or a mention and `&` as the start of an entity.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::playbook::facts::Facts;

    fn message() -> Message {
        Message {
            channel: "chat".into(),
            subject: "Blocked <!channel> & co".into(),
            text: "evil.example".into(),
            facts: Facts::new(json!({"indicator": {"value": "evil.example"}})),
        }
    }

    #[test]
    fn slack_text_cannot_mention_or_link() {
        assert_eq!(
            formatted(WebhookFormat::Slack, &message()),
            json!({"text": "*Blocked &lt;!channel&gt; &amp; co*\nevil.example"})
        );
    }

    #[test]
    fn a_format_and_a_body_together_are_refused() {
        let config: WebhookChannelConfig = toml::from_str(
            "name = 'x'\nurl = 'https://chat.example/hook'\nformat = 'slack'\nbody = '{\"a\": \"{{text}}\"}'\n",
        )
        .unwrap();
        let client = http::client().unwrap();
        let err = WebhookChannel::new(&config, client, "channel \"x\"".into())
            .err()
            .expect("refused");
        assert_eq!(
            err.to_string(),
            "channel \"x\": give a `format` or a `body`, not both"
        );
    }
}
