//! What the user writes in the `[detect]` section of the configuration file.
//!
//! ```toml
//! [detect]
//! workers = 1
//! queue = 10000
//! suppression_window = "1h"
//! alerts = { path = "rampart-data/alerts.jsonl", format = "jsonl" }
//!
//! [[detect.inputs]]
//! kind = "syslog-udp"
//! listen = "127.0.0.1:5514"
//!
//! [[detect.inputs]]
//! kind = "file"
//! path = "/var/log/proxy.jsonl"
//! format = "jsonl"
//!
//! [[detect.rule_packs]]
//! name = "sigmahq"
//! path = "/opt/sigma/rules"
//!
//! [detect.archive]
//! dir = "rampart-data/archive"
//! retention = "30d"
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;

use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

use crate::archive::ArchiveConfig;
use crate::packs::RulePack;

/// The detect stage's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Event sources `rampart serve` reads continuously.
    pub inputs: Vec<InputConfig>,
    /// Sigma rule folders; per-rule overrides live in `<data_dir>/rules.json`.
    pub rule_packs: Vec<RulePack>,
    /// Values for Sigma `expand` placeholders: `[detect.placeholders] admins = ["root"]`.
    pub placeholders: std::collections::BTreeMap<String, Vec<String>>,
    /// Detection workers (threads) sharing the event queue.
    pub workers: usize,
    /// Events waiting for detection at most; inputs that can wait (files, TCP) slow down
    /// when it is full, UDP datagrams are dropped and counted.
    pub queue: usize,
    /// Repeats of an alert (same detection, same values) within this window only raise its
    /// count.
    #[serde(with = "crate::archive::friendly_duration")]
    pub suppression_window: SignedDuration,
    /// Minimum indicator scores per consumer (`alert` is detection's).
    pub thresholds: rampart_matcher::Thresholds,
    /// Where alerts are written, besides the store.
    pub alerts: Option<AlertOutput>,
    /// Keep events for retro-hunting; `None` keeps none.
    pub archive: Option<ArchiveConfig>,
    /// How often new indicators are swept against the archive (they are batched, so each
    /// segment is read once per sweep).
    #[serde(with = "crate::archive::friendly_duration")]
    pub retro_hunt_interval: SignedDuration,
}

impl Default for DetectConfig {
    fn default() -> DetectConfig {
        DetectConfig {
            inputs: Vec::new(),
            rule_packs: Vec::new(),
            placeholders: Default::default(),
            workers: 1,
            queue: 10_000,
            suppression_window: SignedDuration::from_hours(1),
            thresholds: Default::default(),
            alerts: None,
            archive: None,
            retro_hunt_interval: SignedDuration::from_mins(1),
        }
    }
}

/// An alert output file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertOutput {
    pub path: PathBuf,
    /// `jsonl` (default) or `csv`.
    #[serde(default = "default_alert_format")]
    pub format: String,
}

fn default_alert_format() -> String {
    "jsonl".into()
}

/// One continuously read event source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum InputConfig {
    /// Syslog datagrams (RFC 5424 or 3164), one message each.
    SyslogUdp {
        #[serde(default = "default_syslog_addr")]
        listen: SocketAddr,
    },
    /// Syslog over TCP, octet-counted or newline-framed.
    SyslogTcp {
        #[serde(default = "default_syslog_addr")]
        listen: SocketAddr,
    },
    /// A log file read from its start and then followed as it grows (rotation is noticed
    /// when the file shrinks or is replaced).
    File {
        path: PathBuf,
        /// Decoder name (`jsonl`, `syslog`, `zeek`, `apache`, …); sniffed from the first
        /// bytes when absent.
        #[serde(default)]
        format: Option<String>,
    },
}

fn default_syslog_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5514))
}

impl InputConfig {
    /// A short name for logs and counters.
    pub fn describe(&self) -> String {
        match self {
            InputConfig::SyslogUdp { listen } => format!("syslog+udp://{listen}"),
            InputConfig::SyslogTcp { listen } => format!("syslog+tcp://{listen}"),
            InputConfig::File { path, .. } => path.display().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_read_with_loopback_defaults_and_typos_are_refused() {
        let config: DetectConfig = serde_json::from_value(serde_json::json!({
            "inputs": [
                {"kind": "syslog-udp"},
                {"kind": "syslog-tcp", "listen": "0.0.0.0:1514"},
                {"kind": "file", "path": "/var/log/x.jsonl", "format": "jsonl"}
            ],
            "suppression_window": "15m"
        }))
        .expect("parse");
        assert_eq!(
            config.inputs[0],
            InputConfig::SyslogUdp {
                listen: "127.0.0.1:5514".parse().expect("addr")
            }
        );
        assert_eq!(config.inputs[1].describe(), "syslog+tcp://0.0.0.0:1514");
        assert_eq!(config.suppression_window, SignedDuration::from_mins(15));
        assert_eq!(config.workers, 1);
        let typo = serde_json::from_value::<DetectConfig>(serde_json::json!({
            "inputs": [{"kind": "syslog-udp", "lisen": "127.0.0.1:1"}]
        }));
        assert!(typo.is_err());
    }
}
