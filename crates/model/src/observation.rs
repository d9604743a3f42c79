//! What a source says about an indicator, and the context objects around it.

use serde::{Deserialize, Serialize};

use crate::{AttackId, Indicator, Reliability, Timestamp, Tlp};

/// The direction an indicator was seen in, where the source says (MISP `ip-src` vs `ip-dst`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Source,
    Destination,
}

/// A STIX pattern that Rampart stores but does not enforce as written, and why: the values it
/// names are extracted as indicators, but conditions such as `AND`, `FOLLOWEDBY`, `WITHIN` or
/// `REPEATS` are not evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternNote {
    pub pattern: String,
    pub unenforced: Option<String>,
}

/// One source's statement about one indicator, as a feed format produces it.
///
/// Optional fields are `None` when the source did not say; the merge stage then uses the
/// source's defaults (its configured confidence and TLP).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    pub indicator: Indicator,
    /// Where in the input this came from: a STIX or MISP id, or `line N`.
    pub reference: String,
    pub first_seen: Option<Timestamp>,
    pub last_seen: Option<Timestamp>,
    /// After this the source no longer vouches for the indicator (STIX `valid_until`).
    pub valid_until: Option<Timestamp>,
    /// 0–100, as STIX `confidence` or a feed's own scale mapped onto it.
    pub confidence: Option<u8>,
    pub tlp: Option<Tlp>,
    pub labels: Vec<String>,
    pub techniques: Vec<AttackId>,
    /// Names of threats (malware, actor, campaign) the source relates this indicator to.
    pub threats: Vec<String>,
    /// The source withdrew this statement (STIX `revoked`, MISP deleted/`to_ids` false).
    pub revoked: bool,
    pub direction: Option<Direction>,
    /// A port that came with the value (MISP `ip-dst|port`).
    pub port: Option<u16>,
    pub pattern: Option<PatternNote>,
}

impl Observation {
    /// An observation with nothing but the indicator and where it came from.
    pub fn new(indicator: Indicator, reference: impl Into<String>) -> Observation {
        Observation {
            indicator,
            reference: reference.into(),
            first_seen: None,
            last_seen: None,
            valid_until: None,
            confidence: None,
            tlp: None,
            labels: Vec::new(),
            techniques: Vec::new(),
            threats: Vec::new(),
            revoked: false,
            direction: None,
            port: None,
            pattern: None,
        }
    }
}

/// A non-indicator object that gives context (a STIX SDO/SRO, a MISP event or galaxy cluster),
/// kept whole, including unknown types and custom properties.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextObject {
    /// STIX id (`malware--…`) or MISP uuid.
    pub id: String,
    /// STIX type (`malware`, `x-mitre-tactic`, …) or `misp-event`.
    pub object_type: String,
    pub name: Option<String>,
    /// An ATT&CK id for attack patterns, else `None`.
    pub attack_id: Option<AttackId>,
    pub modified: Option<Timestamp>,
    pub revoked: bool,
    pub tlp: Option<Tlp>,
    /// The object exactly as received.
    pub body: serde_json::Value,
}

/// What the store and scoring need to know about a source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceInfo {
    pub name: String,
    /// The format or preset (`stix`, `misp`, `csv`, `spamhaus-drop`, …).
    pub format: String,
    pub reliability: Reliability,
    /// Confidence 0–100 used when an observation carries none.
    pub default_confidence: u8,
    /// TLP used when an observation carries none.
    pub default_tlp: Tlp,
    /// The source publishes its whole list each time: values missing from a successful pull
    /// are withdrawn for this source.
    pub full_list: bool,
}

impl SourceInfo {
    /// A source with middle-of-the-road defaults, for one-off imports.
    pub fn adhoc(name: impl Into<String>, format: impl Into<String>) -> SourceInfo {
        SourceInfo {
            name: name.into(),
            format: format.into(),
            reliability: Reliability::F,
            default_confidence: 50,
            default_tlp: Tlp::Clear,
            full_list: false,
        }
    }
}
