//! Traffic Light Protocol 2.0, with the 1.0 names that feeds still use.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A TLP 2.0 label, ordered from least to most restrictive so that `max` is "the strictest".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Tlp {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

/// A string that names no TLP level.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown TLP label {0:?} (expected clear/white, green, amber, amber+strict or red)")]
pub struct UnknownTlp(pub String);

impl Tlp {
    /// The TLP 2.0 label, e.g. `TLP:AMBER+STRICT`.
    pub fn label(self) -> &'static str {
        match self {
            Tlp::Clear => "TLP:CLEAR",
            Tlp::Green => "TLP:GREEN",
            Tlp::Amber => "TLP:AMBER",
            Tlp::AmberStrict => "TLP:AMBER+STRICT",
            Tlp::Red => "TLP:RED",
        }
    }

    /// The lowercase short form used in MISP tags and configuration (`amber+strict`).
    pub fn short(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// The STIX 2.1 marking-definition id of this level (TLP 2.0 ids from the STIX extension
    /// definitions; TLP 1.0 ids from the STIX 2.1 specification are accepted by [`Tlp::from_stix_marking`]).
    pub fn stix_marking_id(self) -> &'static str {
        match self {
            Tlp::Clear => "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
            Tlp::Green => "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
            Tlp::Amber => "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
            Tlp::AmberStrict => "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
            Tlp::Red => "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        }
    }

    /// The TLP level of a well-known STIX marking-definition id (TLP 1.0 or 2.0).
    pub fn from_stix_marking(id: &str) -> Option<Tlp> {
        const TLP1: [(&str, Tlp); 4] = [
            (
                "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
                Tlp::Clear,
            ),
            (
                "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
                Tlp::Green,
            ),
            (
                "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
                Tlp::Amber,
            ),
            (
                "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
                Tlp::Red,
            ),
        ];
        for (known, tlp) in TLP1 {
            if id == known {
                return Some(tlp);
            }
        }
        [
            Tlp::Clear,
            Tlp::Green,
            Tlp::Amber,
            Tlp::AmberStrict,
            Tlp::Red,
        ]
        .into_iter()
        .find(|tlp| tlp.stix_marking_id() == id)
    }
}

impl FromStr for Tlp {
    type Err = UnknownTlp;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let lower = text.trim().to_ascii_lowercase();
        let bare = lower
            .strip_prefix("tlp:")
            .or_else(|| lower.strip_prefix("tlp-"))
            .unwrap_or(&lower)
            .trim();
        match bare {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" | "amber-strict" | "amber_strict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(UnknownTlp(text.to_owned())),
        }
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl From<Tlp> for String {
    fn from(tlp: Tlp) -> String {
        tlp.short().to_owned()
    }
}

impl TryFrom<String> for Tlp {
    type Error = UnknownTlp;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tlp1_and_tlp2_names_and_orders_by_strictness() {
        assert_eq!("tlp:white".parse::<Tlp>().unwrap(), Tlp::Clear);
        assert_eq!("TLP:AMBER+STRICT".parse::<Tlp>().unwrap(), Tlp::AmberStrict);
        assert!("tlp:purple".parse::<Tlp>().is_err());
        assert_eq!(Tlp::Green.max(Tlp::Amber), Tlp::Amber);
        assert!(Tlp::Red > Tlp::AmberStrict);
    }

    #[test]
    fn maps_stix_marking_ids_of_both_versions() {
        assert_eq!(
            Tlp::from_stix_marking("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"),
            Some(Tlp::Green)
        );
        assert_eq!(
            Tlp::from_stix_marking(Tlp::AmberStrict.stix_marking_id()),
            Some(Tlp::AmberStrict)
        );
        assert_eq!(Tlp::from_stix_marking("marking-definition--nope"), None);
    }
}
