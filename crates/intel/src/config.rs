//! What the user writes: `rampart.toml`, with the data directory, the store and the sources.
//!
//! ```toml
//! data_dir = "/var/lib/rampart"
//! warninglists = "/usr/share/misp-warninglists/lists"
//!
//! [[sources]]
//! name = "spamhaus-drop"
//! format = "spamhaus-drop"
//! url = "https://www.spamhaus.org/drop/drop.txt"
//! interval = "12h"
//! reliability = "B"
//! ```
//!
//! Sources in the file are written to the store at start-up; sources added with
//! `rampart feeds add` live in the store only. Either way the scheduler reads the store.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use rampart_model::{Reliability, SourceInfo, Tlp};
use serde::{Deserialize, Serialize};

use crate::formats::FormatOptions;

/// The defaults `rampart serve` runs on when no configuration file is given.
pub const EMBEDDED_DEFAULTS: &str = include_str!("../defaults.toml");

/// The whole configuration file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database and other state live. Default: `./rampart-data`.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Store URL: `sqlite://PATH` or `postgres://…`. Default: `sqlite://<data_dir>/rampart.db`.
    #[serde(default)]
    pub store: Option<String>,
    /// A directory of MISP warninglists (`lists/*/list.json`) used to suppress known-benign
    /// values. Optional.
    #[serde(default)]
    pub warninglists: Option<PathBuf>,
    /// How many feeds are pulled at the same time.
    #[serde(default = "default_concurrency")]
    pub concurrent_pulls: usize,
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// The `[detect]` section, read by the detect stage (`rampart_detect::config`); kept as a
    /// table here so that intel does not depend on detection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detect: Option<toml::Table>,
    /// The `[server]` section (HTTP listener, limits), read by the server
    /// (`rampart_server::config`); a table here for the same reason as `detect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<toml::Table>,
    /// The `[taxii]` section (the TAXII 2.1 server's API root and `[[taxii.collections]]`),
    /// read by the server (`rampart_server::taxii::config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxii: Option<toml::Table>,
    /// The `[log]` section (format and level of log lines), read by the binary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<toml::Table>,
    /// The `[retention]` section (how long alerts and archived events are kept), read by the
    /// binary's pruning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<toml::Table>,
    /// The `[respond]` section (playbooks, guardrails, block lists), read by the respond stage
    /// (`rampart_respond::config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond: Option<toml::Table>,
    /// The `[cases]` section (SLA, grouping, templates), read by the cases stage
    /// (`rampart_cases::config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cases: Option<toml::Table>,
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("rampart-data")
}

fn default_concurrency() -> usize {
    2
}

impl Config {
    /// Parses a configuration file's text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|err| ConfigError::Syntax {
            origin: origin.to_owned(),
            reason: err.to_string(),
        })?;
        let mut names = std::collections::BTreeSet::new();
        for source in &config.sources {
            source.validate().map_err(|reason| ConfigError::Source {
                name: source.name.clone(),
                reason,
            })?;
            if !names.insert(source.name.as_str()) {
                return Err(ConfigError::Source {
                    name: source.name.clone(),
                    reason: "defined twice".into(),
                });
            }
        }
        Ok(config)
    }

    /// The embedded defaults.
    pub fn embedded() -> Config {
        // The embedded file is tested below; a failure here is a build defect, not input.
        Config::parse(EMBEDDED_DEFAULTS, "embedded defaults").unwrap_or_else(|err| panic!("{err}"))
    }

    /// The store URL, defaulting to SQLite under the data directory.
    pub fn store_url(&self) -> String {
        self.store
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("rampart.db").display()))
    }
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{origin}: {reason}")]
    Syntax { origin: String, reason: String },
    #[error("source {name:?}: {reason}")]
    Source { name: String, reason: String },
}

/// How documents of a source are fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TransportKind {
    /// One document from an HTTP(S) URL or a local file.
    #[default]
    Http,
    /// A TAXII 2.1 collection.
    Taxii,
    /// A MISP server's REST API.
    MispServer,
    /// A MISP feed (`manifest.json` and event files).
    MispFeed,
}

/// Credentials, referenced by environment variable so secrets stay out of files and the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuthConfig {
    Basic {
        user: String,
        password_env: String,
    },
    Bearer {
        token_env: String,
    },
    /// A raw header, e.g. MISP's `Authorization: <key>`.
    Header {
        name: String,
        value_env: String,
    },
}

impl AuthConfig {
    /// The secret behind this reference, read from the environment now.
    pub fn secret(&self) -> Result<String, String> {
        let variable = match self {
            AuthConfig::Basic { password_env, .. } => password_env,
            AuthConfig::Bearer { token_env } => token_env,
            AuthConfig::Header { value_env, .. } => value_env,
        };
        std::env::var(variable).map_err(|_| format!("environment variable {variable} is not set"))
    }
}

/// One source as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    pub name: String,
    /// A format (`stix`, `misp`, `csv`, `text`) or a feed preset (`urlhaus`, `spamhaus-drop`…).
    pub format: String,
    #[serde(default)]
    pub transport: TransportKind,
    /// URL or local path.
    pub url: String,
    /// How often to pull: `30m`, `12h`, `1d`.
    #[serde(default = "default_interval")]
    pub interval: String,
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Admiralty grade A–F of this source.
    #[serde(default = "default_reliability")]
    pub reliability: Reliability,
    /// Confidence 0–100 for statements that carry none.
    #[serde(default = "default_confidence")]
    pub confidence: u8,
    /// TLP for statements that carry none.
    #[serde(default = "default_tlp")]
    pub tlp: Tlp,
    /// Treat every successful pull as the whole list (overrides the format's own default).
    #[serde(default)]
    pub full_list: Option<bool>,
    /// Format options (CSV column mapping…).
    #[serde(default)]
    pub options: FormatOptions,
    #[serde(default)]
    pub auth: Option<AuthConfig>,
    /// Request timeout in seconds.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Transport-specific settings (TAXII collection id, MISP filters…).
    #[serde(default)]
    pub transport_options: BTreeMap<String, String>,
}

fn default_interval() -> String {
    "1h".into()
}
fn default_enabled() -> bool {
    true
}
fn default_reliability() -> Reliability {
    Reliability::F
}
fn default_confidence() -> u8 {
    50
}
fn default_tlp() -> Tlp {
    Tlp::Clear
}
fn default_timeout() -> u64 {
    60
}

impl SourceConfig {
    /// Checks what can be checked without I/O.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty()
            || !self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(
                "name must be non-empty and use only letters, digits, '-', '_' and '.'".into(),
            );
        }
        parse_interval(&self.interval)?;
        if self.confidence > 100 {
            return Err("confidence must be 0–100".into());
        }
        crate::formats::by_name(&self.format, &self.options).map_err(|err| err.to_string())?;
        Ok(())
    }

    /// The pull interval.
    pub fn interval(&self) -> Duration {
        parse_interval(&self.interval).unwrap_or(Duration::from_secs(3600))
    }

    /// What the store and scoring need.
    pub fn info(&self) -> SourceInfo {
        let full_list = self.full_list.unwrap_or_else(|| {
            crate::formats::by_name(&self.format, &self.options)
                .is_ok_and(|format| format.full_list())
        });
        SourceInfo {
            name: self.name.clone(),
            format: self.format.clone(),
            reliability: self.reliability,
            default_confidence: self.confidence,
            default_tlp: self.tlp,
            full_list,
        }
    }

    /// The settings as stored with the source.
    pub fn to_settings(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// Reads the settings back from the store.
    pub fn from_settings(settings: &serde_json::Value) -> Result<SourceConfig, String> {
        serde_json::from_value(settings.clone())
            .map_err(|err| format!("stored settings unreadable: {err}"))
    }
}

/// Parses `90s`, `30m`, `12h`, `1d`, `2w` (a bare number is seconds).
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("interval {text:?}: expected a number and a unit (s, m, h, d, w)"))?;
    let seconds = match unit.trim() {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 604_800,
        other => {
            return Err(format!(
                "interval {text:?}: unknown unit {other:?} (s, m, h, d, w)"
            ));
        }
    };
    if number == 0 {
        return Err(format!("interval {text:?} must be positive"));
    }
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_parse() {
        let config = Config::embedded();
        assert_eq!(config.store_url(), "sqlite://rampart-data/rampart.db");
    }

    #[test]
    fn intervals_parse_and_bad_ones_say_why() {
        assert_eq!(parse_interval("12h").unwrap(), Duration::from_secs(43_200));
        assert_eq!(parse_interval("90").unwrap(), Duration::from_secs(90));
        assert!(
            parse_interval("5 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_interval("0m").is_err());
    }

    #[test]
    fn sources_are_validated_with_their_name() {
        let text = "[[sources]]\nname = \"x\"\nformat = \"nope\"\nurl = \"http://127.0.0.1/\"\n";
        let err = Config::parse(text, "t.toml").unwrap_err().to_string();
        assert!(
            err.contains("source \"x\"") && err.contains("unknown format"),
            "{err}"
        );
        let text = "[[sources]]\nname = \"x\"\nformat = \"text\"\nurl = \"u\"\nbogus = 1\n";
        assert!(
            Config::parse(text, "t.toml")
                .unwrap_err()
                .to_string()
                .contains("bogus")
        );
    }
}
