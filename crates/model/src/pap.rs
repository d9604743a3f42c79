//! Permissible Actions Protocol: what a recipient may *do* with information (TLP says whom they
//! may share it with). Used on incident cases, as TheHive and MISP do.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A PAP label, ordered from least to most restrictive so that `max` is "the strictest".
///
/// - `PAP:CLEAR` — no restriction.
/// - `PAP:GREEN` — active actions allowed (blocking, pinging the infrastructure).
/// - `PAP:AMBER` — passive actions only (lookups in logs, passive DNS), nothing the adversary
///   could notice.
/// - `PAP:RED` — non-detectable actions only; no lookups outside the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Pap {
    Clear,
    Green,
    Amber,
    Red,
}

/// A string that names no PAP level.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown PAP label {0:?} (expected clear/white, green, amber or red)")]
pub struct UnknownPap(pub String);

impl Pap {
    pub const ALL: [Pap; 4] = [Pap::Clear, Pap::Green, Pap::Amber, Pap::Red];

    /// The label, e.g. `PAP:AMBER`.
    pub fn label(self) -> &'static str {
        match self {
            Pap::Clear => "PAP:CLEAR",
            Pap::Green => "PAP:GREEN",
            Pap::Amber => "PAP:AMBER",
            Pap::Red => "PAP:RED",
        }
    }

    /// The lowercase short form used in storage and configuration (`amber`).
    pub fn short(self) -> &'static str {
        match self {
            Pap::Clear => "clear",
            Pap::Green => "green",
            Pap::Amber => "amber",
            Pap::Red => "red",
        }
    }
}

impl FromStr for Pap {
    type Err = UnknownPap;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let bare = lower
            .strip_prefix("pap:")
            .or_else(|| lower.strip_prefix("pap-"))
            .unwrap_or(&lower)
            .trim();
        match bare {
            "clear" | "white" => Ok(Pap::Clear),
            "green" => Ok(Pap::Green),
            "amber" => Ok(Pap::Amber),
            "red" => Ok(Pap::Red),
            _ => Err(UnknownPap(text.chars().take(40).collect())),
        }
    }
}

impl fmt::Display for Pap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl From<Pap> for String {
    fn from(pap: Pap) -> String {
        pap.short().to_owned()
    }
}

impl TryFrom<String> for Pap {
    type Error = UnknownPap;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_and_orders_by_strictness() {
        assert_eq!("PAP:WHITE".parse::<Pap>().unwrap(), Pap::Clear);
        assert_eq!("pap:amber".parse::<Pap>().unwrap(), Pap::Amber);
        assert_eq!("red".parse::<Pap>().unwrap(), Pap::Red);
        assert!("pap:purple".parse::<Pap>().is_err());
        assert!(Pap::Red > Pap::Amber);
        assert_eq!(Pap::Green.max(Pap::Clear), Pap::Green);
        assert_eq!(Pap::Amber.to_string(), "PAP:AMBER");
    }

    #[test]
    fn serialises_as_the_short_form() {
        assert_eq!(serde_json::to_string(&Pap::Green).unwrap(), "\"green\"");
        let parsed: Pap = serde_json::from_str("\"PAP:RED\"").unwrap();
        assert_eq!(parsed, Pap::Red);
        assert!(serde_json::from_str::<Pap>("\"blue\"").is_err());
    }
}
