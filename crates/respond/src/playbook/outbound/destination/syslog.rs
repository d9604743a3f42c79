//! `kind = "syslog"`: the run's subject as a CEF record in an RFC 5424 syslog line, over UDP
//! (one datagram) or TCP (octet-counting framing, RFC 6587: `LENGTH SP LINE`). A TCP
//! connection is opened per record: forwards are few, and a connection the collector dropped
//! while idle would swallow a record without an error.

use std::net::SocketAddr;
use std::time::Duration;

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

use super::super::OutboundError;
use super::super::http::timeout;
use super::Destination;
use super::cef::{CefEvent, syslog_line};
use crate::playbook::definition::Span;
use crate::playbook::facts::Facts;
use crate::playbook::services::ActionError;

/// The largest line sent in one UDP datagram (what IPv4 can carry).
const UDP_LIMIT: usize = 65_507;

/// A syslog collector (ArcSight, a SIEM's syslog input).
///
/// ```toml
/// [[destinations]]
/// name = "arcsight"
/// kind = "syslog"
/// address = "siem.example.org:514"
/// transport = "tcp"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyslogConfig {
    /// The name playbooks use in `forward: {to: NAME}`.
    pub name: String,
    /// `host:port` of the collector.
    pub address: String,
    /// `udp` (default) or `tcp`.
    #[serde(default)]
    pub transport: SyslogTransport,
    /// The syslog facility, 0 to 23 (default 16, `local0`).
    #[serde(default = "local0")]
    pub facility: u8,
    /// The HOSTNAME field (default: this machine's name).
    #[serde(default)]
    pub hostname: Option<String>,
    /// How long to wait for a TCP connection and its write (default `5s`, at most `60s`).
    #[serde(default = "five_seconds")]
    pub timeout: Span,
}

/// How syslog lines travel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyslogTransport {
    #[default]
    Udp,
    Tcp,
}

fn local0() -> u8 {
    16
}

fn five_seconds() -> Span {
    Span(SignedDuration::from_secs(5))
}

pub(super) struct SyslogDestination {
    owner: String,
    address: String,
    transport: SyslogTransport,
    facility: u8,
    hostname: String,
    timeout: Duration,
}

impl SyslogDestination {
    pub(super) fn new(config: &SyslogConfig, owner: String) -> Result<Self, OutboundError> {
        if config.facility > 23 {
            return Err(OutboundError::new(&owner, "facility must be 0 to 23"));
        }
        if config
            .address
            .rsplit_once(':')
            .is_none_or(|(_, port)| port.parse::<u16>().is_err())
        {
            return Err(OutboundError::new(
                &owner,
                format!("address {:?}: give host:port", config.address),
            ));
        }
        Ok(SyslogDestination {
            address: config.address.clone(),
            transport: config.transport,
            facility: config.facility,
            hostname: config.hostname.clone().unwrap_or_else(super::this_host),
            timeout: timeout(config.timeout, &owner)?,
            owner,
        })
    }

    async fn resolve(&self) -> Result<SocketAddr, ActionError> {
        let mut addresses = tokio::net::lookup_host(self.address.as_str())
            .await
            .map_err(|err| {
                ActionError::retryable(format!(
                    "{}: cannot resolve {}: {err}",
                    self.owner, self.address
                ))
            })?;
        addresses.next().ok_or_else(|| {
            ActionError::retryable(format!("{}: {} has no address", self.owner, self.address))
        })
    }

    async fn send_udp(&self, target: SocketAddr, line: &str) -> Result<(), ActionError> {
        if line.len() > UDP_LIMIT {
            return Err(ActionError::permanent(format!(
                "{}: the record is {} bytes, more than a UDP datagram holds: use transport = \"tcp\"",
                self.owner,
                line.len()
            )));
        }
        let local: SocketAddr = if target.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let io =
            |err: std::io::Error| ActionError::retryable(format!("{}: udp: {err}", self.owner));
        let socket = UdpSocket::bind(local).await.map_err(io)?;
        socket.send_to(line.as_bytes(), target).await.map_err(io)?;
        Ok(())
    }

    async fn send_tcp(&self, target: SocketAddr, line: &str) -> Result<(), ActionError> {
        let io =
            |err: std::io::Error| ActionError::retryable(format!("{}: tcp: {err}", self.owner));
        let exchange = async {
            let mut stream = TcpStream::connect(target).await.map_err(io)?;
            let frame = format!("{} {line}", line.len());
            stream.write_all(frame.as_bytes()).await.map_err(io)?;
            stream.shutdown().await.map_err(io)?;
            Ok::<_, ActionError>(())
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| {
                ActionError::retryable(format!(
                    "{}: tcp: no connection within {:?}",
                    self.owner, self.timeout
                ))
            })?
    }
}

#[async_trait]
impl Destination for SyslogDestination {
    async fn forward(&self, facts: &Facts) -> Result<Value, ActionError> {
        let now = Timestamp::now();
        let event = CefEvent::of(facts, now);
        let line = syslog_line(self.facility, &event, &self.hostname, now);
        let target = self.resolve().await?;
        match self.transport {
            SyslogTransport::Udp => self.send_udp(target, &line).await?,
            SyslogTransport::Tcp => self.send_tcp(target, &line).await?,
        }
        Ok(json!({
            "transport": match self.transport {
                SyslogTransport::Udp => "udp",
                SyslogTransport::Tcp => "tcp",
            },
            "bytes": line.len(),
            "signature_id": event.signature_id,
        }))
    }
}
