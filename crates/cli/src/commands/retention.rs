//! The `[retention]` table: how long old alerts are kept.
//!
//! ```toml
//! [retention]
//! alerts = "180d"     # alerts whose last sighting is older are deleted; absent: kept forever
//! ```
//!
//! Archived events have their own retention beside the archive (`[detect.archive] retention`,
//! default 30 days), enforced by the archive itself. The audit log is never pruned.

use std::time::Duration;

use serde::Deserialize;

/// The `[retention]` table. Every field is optional: what is not set is kept forever.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Alerts whose last sighting is older than this are deleted by `serve` (hourly) and by
    /// `rampart admin prune` (`30d`, `26w`, `12h`). Alerts carry no triage status yet, so age
    /// alone decides; open alerts are not spared.
    #[serde(deserialize_with = "de_age")]
    pub alerts: Option<Duration>,
}

impl RetentionConfig {
    pub fn from_table(table: Option<&toml::Table>) -> anyhow::Result<RetentionConfig> {
        let Some(table) = table else {
            return Ok(RetentionConfig::default());
        };
        toml::Value::Table(table.clone())
            .try_into()
            .map_err(|err| anyhow::anyhow!("invalid [retention] section: {err}"))
    }

    /// One line for summaries.
    pub fn describe(&self) -> String {
        match self.alerts {
            Some(age) => format!("alerts kept {}, audit log kept forever", friendly_std(age)),
            None => "alerts and audit log kept forever".into(),
        }
    }
}

fn de_age<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Duration>, D::Error> {
    let text = String::deserialize(deserializer)?;
    rampart_intel::config::parse_interval(&text)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

/// `30d`, `12h`, `90s`: the largest unit that divides the duration.
pub fn friendly_std(duration: Duration) -> String {
    let seconds = duration.as_secs();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60)] {
        if seconds >= size && seconds.is_multiple_of(size) {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

/// [`friendly_std`] for the signed durations the detect configuration uses.
pub fn friendly(duration: jiff::SignedDuration) -> String {
    friendly_std(duration.unsigned_abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_parse_and_print() {
        let table: toml::Table = toml::from_str("alerts = \"180d\"").unwrap();
        let config = RetentionConfig::from_table(Some(&table)).unwrap();
        assert_eq!(config.alerts, Some(Duration::from_secs(180 * 86_400)));
        assert_eq!(friendly_std(config.alerts.unwrap()), "180d");
        assert_eq!(friendly_std(Duration::from_secs(90)), "90s");
        let table: toml::Table = toml::from_str("events = \"30d\"").unwrap();
        let err = RetentionConfig::from_table(Some(&table)).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
        assert_eq!(RetentionConfig::from_table(None).unwrap().alerts, None);
    }
}
