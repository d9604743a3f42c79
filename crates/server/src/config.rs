//! What the user writes: the `[server]` table of `rampart.toml`.
//!
//! ```toml
//! [server]
//! listen = "127.0.0.1:8080"    # loopback by default; "127.0.0.1:0" picks a free port
//! body_limit = "10MiB"         # largest request body accepted (413 beyond)
//! request_timeout = "30s"      # a request still running after this is answered 503
//! session_lifetime = "12h"     # how long a browser login lasts
//! metrics_public = false       # /metrics needs a token allowed `read_metrics` unless true
//! # tls_cert = "cert.pem"      # both set: HTTPS only, session cookies marked Secure
//! # tls_key = "key.pem"
//! ```
//!
//! Incident cases have their own top-level `[cases]` section (`rampart_cases::CasesConfig`),
//! which `serve` hands to the state with [`crate::state::AppStateBuilder::cases`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The HTTP server's settings. Every field has a default, so an absent table is valid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on. Default `127.0.0.1:8080`: nothing outside the machine
    /// can connect until this is changed on purpose.
    pub listen: SocketAddr,
    /// The largest request body accepted, as bytes or with a unit (`512KiB`, `10MiB`, `1GiB`).
    #[serde(deserialize_with = "de_size")]
    pub body_limit: usize,
    /// How long a request may run before it is answered `503` with a JSON error (`30s`, `2m`).
    #[serde(deserialize_with = "de_duration")]
    pub request_timeout: Duration,
    /// How long a browser session lasts after login (`12h`).
    #[serde(deserialize_with = "de_duration")]
    pub session_lifetime: Duration,
    /// Whether `/metrics` answers without authentication. Default `false`: a scraper then
    /// presents an API token whose role allows `read_metrics` (admin, analyst, read_only), as
    /// every other route does. Set `true` only when the listen address is reachable by no one
    /// but the scraper; the figures name sources and routes, never intel values.
    pub metrics_public: bool,
    /// PEM file with the server certificate chain. With `tls_key`, `serve` speaks HTTPS only
    /// (rustls) on `listen`, and session cookies are marked `Secure`.
    pub tls_cert: Option<PathBuf>,
    /// PEM file with the private key of `tls_cert` (PKCS#8, PKCS#1 or SEC1).
    pub tls_key: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            body_limit: 10 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            session_lifetime: Duration::from_secs(12 * 3600),
            metrics_public: false,
            tls_cert: None,
            tls_key: None,
        }
    }
}

/// A `[server]` table that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("invalid [server] section: {0}")]
pub struct ServerConfigError(String);

impl ServerConfig {
    /// Reads the `[server]` table as the intel configuration keeps it; `None` gives the
    /// defaults.
    pub fn from_table(table: Option<&toml::Table>) -> Result<ServerConfig, ServerConfigError> {
        let Some(table) = table else {
            return Ok(ServerConfig::default());
        };
        let config: ServerConfig = toml::Value::Table(table.clone())
            .try_into()
            .map_err(|err: toml::de::Error| ServerConfigError(err.to_string()))?;
        if config.tls_cert.is_some() != config.tls_key.is_some() {
            return Err(ServerConfigError(
                "tls_cert and tls_key go together: set both for HTTPS, or neither".into(),
            ));
        }
        Ok(config)
    }

    /// The certificate and key files when TLS is configured.
    pub fn tls(&self) -> Option<(&std::path::Path, &std::path::Path)> {
        Some((self.tls_cert.as_deref()?, self.tls_key.as_deref()?))
    }
}

/// Parses `1048576`, `512KiB`, `10MiB`, `1GiB` (also `KB`/`MB`/`GB` as powers of 1000).
pub fn parse_size(text: &str) -> Result<usize, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: usize = number
        .parse()
        .map_err(|_| format!("size {text:?}: expected a number and a unit (KiB, MiB, GiB)"))?;
    let factor: usize = match unit.trim() {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        other => {
            return Err(format!(
                "size {text:?}: unknown unit {other:?} (KiB, MiB, GiB)"
            ));
        }
    };
    let bytes = number
        .checked_mul(factor)
        .ok_or_else(|| format!("size {text:?} is too large"))?;
    if bytes == 0 {
        return Err(format!("size {text:?} must be positive"));
    }
    Ok(bytes)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SizeOrText {
    Bytes(u64),
    Text(String),
}

fn de_size<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    match SizeOrText::deserialize(deserializer)? {
        SizeOrText::Bytes(0) => Err(serde::de::Error::custom("size must be positive")),
        SizeOrText::Bytes(bytes) => usize::try_from(bytes).map_err(serde::de::Error::custom),
        SizeOrText::Text(text) => parse_size(&text).map_err(serde::de::Error::custom),
    }
}

fn de_duration<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    rampart_intel::config::parse_interval(&text).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_table_is_the_loopback_default() {
        let config = ServerConfig::from_table(None).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.body_limit, 10 << 20);
        assert_eq!(config.request_timeout, Duration::from_secs(30));
    }

    #[test]
    fn the_embedded_defaults_have_a_server_table() {
        let intel = rampart_intel::config::Config::embedded();
        let config = ServerConfig::from_table(intel.server.as_ref()).unwrap();
        assert_eq!(config, ServerConfig::default());
    }

    #[test]
    fn fields_parse_and_bad_ones_say_why() {
        let table: toml::Table = toml::from_str(
            "listen = \"127.0.0.1:0\"\nbody_limit = \"64KiB\"\nrequest_timeout = \"2m\"",
        )
        .unwrap();
        let config = ServerConfig::from_table(Some(&table)).unwrap();
        assert_eq!(config.listen.port(), 0);
        assert_eq!(config.body_limit, 65_536);
        assert_eq!(config.request_timeout, Duration::from_secs(120));

        let table: toml::Table = toml::from_str("body_limit = 4096").unwrap();
        assert_eq!(
            ServerConfig::from_table(Some(&table)).unwrap().body_limit,
            4096
        );

        for (text, expected) in [
            ("listen = \"localhost\"", "listen"),
            ("body_limit = \"10 parsecs\"", "unknown unit"),
            ("body_limit = 0", "positive"),
            ("request_timeout = \"soon\"", "interval"),
            ("port = 8080", "unknown field"),
            ("tls_cert = \"cert.pem\"", "go together"),
        ] {
            let table: toml::Table = toml::from_str(text).unwrap();
            let err = ServerConfig::from_table(Some(&table))
                .unwrap_err()
                .to_string();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("10MiB").unwrap(), 10 << 20);
        assert_eq!(parse_size("1 KB").unwrap(), 1000);
        assert_eq!(parse_size("123").unwrap(), 123);
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
    }
}
