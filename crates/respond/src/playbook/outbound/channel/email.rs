//! `kind = "email"`: a plain-text mail through an SMTP server (lettre, rustls with ring). One
//! connection per message: notifications are few, and a fresh connection never meets a relay
//! that dropped an idle one.

use std::error::Error as _;
use std::net::IpAddr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::SignedDuration;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Deserialize;
use serde_json::{Value, json};

use super::super::OutboundError;
use super::super::http::{env_secret, timeout};
use super::{Channel, default_rate_per_minute};
use crate::playbook::definition::Span;
use crate::playbook::services::{ActionError, Message};

/// An email channel.
///
/// ```toml
/// [[channels]]
/// name = "soc-mail"
/// kind = "email"
/// smtp_host = "mail.example.org"
/// tls = "starttls"
/// user = "rampart"
/// password_env = "RAMPART_SMTP_PASSWORD"
/// from = "Rampart <rampart@example.org>"
/// to = ["soc@example.org"]
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailChannelConfig {
    /// The name playbooks use in `notify: {channel: NAME}`.
    pub name: String,
    /// The SMTP server (default `127.0.0.1`, a local relay).
    #[serde(default = "loopback")]
    pub smtp_host: String,
    /// Its port (default 25 without TLS, 587 with `starttls`, 465 with `tls`).
    #[serde(default)]
    pub smtp_port: Option<u16>,
    /// `none`, `starttls` (required, never a silent fall-back to plain text) or `tls` (TLS
    /// from the first byte). Default: `none` for a loopback server, else `starttls`.
    #[serde(default)]
    pub tls: Option<SmtpTls>,
    /// The SMTP user, when the server wants one; the password comes from `password_env`.
    #[serde(default)]
    pub user: Option<String>,
    /// The environment variable holding the SMTP password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// The sender, `Name <address>` or a bare address.
    pub from: String,
    /// The recipients (at least one).
    pub to: Vec<String>,
    /// How long the server may take over each SMTP command (default `10s`, at most `60s`);
    /// a whole mail gets twice that.
    #[serde(default = "ten_seconds")]
    pub timeout: Span,
    /// Mails a minute (default 30); more fail as "rate limited" and are retried later.
    #[serde(default = "default_rate_per_minute")]
    pub rate_per_minute: u32,
    /// How many mails may go at once before the rate applies (default: `rate_per_minute`).
    #[serde(default)]
    pub burst: Option<u32>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

fn loopback() -> String {
    "127.0.0.1".to_owned()
}

fn ten_seconds() -> Span {
    Span(SignedDuration::from_secs(10))
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

pub(super) struct EmailChannel {
    owner: String,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    to: Vec<Mailbox>,
    timeout: Duration,
}

impl EmailChannel {
    pub(super) fn new(
        config: &EmailChannelConfig,
        owner: String,
    ) -> Result<EmailChannel, OutboundError> {
        let host = config.smtp_host.as_str();
        let tls = config.tls.unwrap_or(if is_loopback(host) {
            SmtpTls::None
        } else {
            SmtpTls::Starttls
        });
        let port = config.smtp_port.unwrap_or(match tls {
            SmtpTls::None => 25,
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
        });
        let timeout = timeout(config.timeout, &owner)?;
        let parameters = || {
            TlsParameters::new(host.to_owned())
                .map_err(|err| OutboundError::new(&owner, format!("tls: {err}")))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(timeout))
            .tls(match tls {
                SmtpTls::None => Tls::None,
                SmtpTls::Starttls => Tls::Required(parameters()?),
                SmtpTls::Tls => Tls::Wrapper(parameters()?),
            });
        match (&config.user, &config.password_env) {
            (None, None) => {}
            (Some(user), Some(variable)) => {
                if tls == SmtpTls::None && !is_loopback(host) {
                    return Err(OutboundError::new(
                        &owner,
                        "a password would cross the network in plain text: use tls = \"starttls\" or \"tls\"",
                    ));
                }
                let password = env_secret(variable, &owner)?;
                builder = builder.credentials(Credentials::new(user.clone(), password));
            }
            _ => {
                return Err(OutboundError::new(
                    &owner,
                    "give both `user` and `password_env`, or neither",
                ));
            }
        }
        let mailbox = |text: &str| {
            text.parse::<Mailbox>()
                .map_err(|err| OutboundError::new(&owner, format!("address {text:?}: {err}")))
        };
        let from = mailbox(&config.from)?;
        let to = config
            .to
            .iter()
            .map(|text| mailbox(text))
            .collect::<Result<Vec<_>, _>>()?;
        if to.is_empty() {
            return Err(OutboundError::new(
                &owner,
                "`to` needs at least one address",
            ));
        }
        Ok(EmailChannel {
            transport: builder.build(),
            from,
            to,
            timeout,
            owner,
        })
    }
}

#[async_trait]
impl Channel for EmailChannel {
    async fn send(&self, message: &Message) -> Result<Value, ActionError> {
        let mut mail = lettre::Message::builder()
            .from(self.from.clone())
            .subject(message.subject.clone())
            .header(ContentType::TEXT_PLAIN);
        for recipient in &self.to {
            mail = mail.to(recipient.clone());
        }
        let mail = mail
            .body(message.text.clone())
            .map_err(|err| ActionError::permanent(format!("{}: {err}", self.owner)))?;
        // lettre's timeout is per SMTP command; this bounds the whole exchange.
        let sent = tokio::time::timeout(self.timeout * 2, self.transport.send(mail))
            .await
            .map_err(|_| {
                ActionError::retryable(format!(
                    "{}: no answer within {:?}",
                    self.owner,
                    self.timeout * 2
                ))
            })?;
        let response = sent.map_err(|err| smtp_error(&err, &self.owner))?;
        let reply: Vec<&str> = response.message().collect();
        Ok(json!({
            "smtp": response.code().to_string(),
            "reply": reply.join(" "),
            "to": self.to.iter().map(|mailbox| mailbox.email.to_string()).collect::<Vec<_>>(),
        }))
    }
}

/// A 5xx reply, a TLS failure or a mail lettre cannot write is permanent; a 4xx reply, a
/// refused connection or a timeout is worth retrying.
fn smtp_error(err: &lettre::transport::smtp::Error, owner: &str) -> ActionError {
    let mut message = format!("{owner}: {err}");
    let mut cause = err.source();
    while let Some(current) = cause {
        message.push_str(&format!(": {current}"));
        cause = current.source();
    }
    if err.is_permanent() || err.is_tls() || err.is_client() {
        ActionError::permanent(message)
    } else {
        ActionError::retryable(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> EmailChannelConfig {
        toml::from_str(&format!(
            "name = 'mail'\nfrom = 'Rampart <rampart@example.org>'\nto = ['soc@example.org']\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn passwords_never_cross_the_network_in_plain_text() {
        let remote = config(
            "smtp_host = 'mail.example.org'\ntls = 'none'\nuser = 'r'\npassword_env = 'PATH'\n",
        );
        let err = EmailChannel::new(&remote, "channel \"mail\"".into())
            .err()
            .expect("refused");
        assert!(err.to_string().contains("plain text"), "{err}");
        let local = config("user = 'r'\npassword_env = 'PATH'\n");
        assert!(EmailChannel::new(&local, "channel \"mail\"".into()).is_ok());
        let half = config("user = 'r'\n");
        assert!(EmailChannel::new(&half, "channel \"mail\"".into()).is_err());
    }

    #[test]
    fn addresses_are_checked_when_built() {
        let wrong: EmailChannelConfig =
            toml::from_str("name = 'mail'\nfrom = 'not an address'\nto = ['soc@example.org']\n")
                .unwrap();
        let err = EmailChannel::new(&wrong, "channel \"mail\"".into())
            .err()
            .expect("refused");
        assert!(
            err.to_string()
                .starts_with("channel \"mail\": address \"not an address\""),
            "{err}"
        );
        let nobody = EmailChannelConfig {
            to: vec![],
            ..config("")
        };
        assert!(EmailChannel::new(&nobody, "x".into()).is_err());
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["mail.example.org", "10.0.0.1"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
