//! MITRE ATT&CK technique identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A technique or sub-technique id such as `T1566` or `T1566.001` (enterprise, mobile or ICS).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct AttackId(String);

/// Text that is not a technique id.
#[derive(Debug, Clone, thiserror::Error)]
#[error("not an ATT&CK technique id: {0:?} (expected T1234 or T1234.001)")]
pub struct AttackIdError(pub String);

impl AttackId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parent technique of a sub-technique (`T1566.001` → `T1566`).
    pub fn parent(&self) -> Option<AttackId> {
        self.0
            .split_once('.')
            .map(|(parent, _)| AttackId(parent.to_owned()))
    }

    /// Finds a technique id inside free text such as a Sigma tag (`attack.t1566.001`) or a
    /// MISP galaxy tag (`misp-galaxy:mitre-attack-pattern="Phishing - T1566"`).
    pub fn find_in(text: &str) -> Option<AttackId> {
        let bytes = text.as_bytes();
        for start in 0..bytes.len() {
            if !matches!(bytes[start], b'T' | b't') {
                continue;
            }
            if start > 0 && bytes[start - 1].is_ascii_alphanumeric() {
                continue;
            }
            let digits = bytes[start + 1..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if digits != 4 {
                continue;
            }
            let mut end = start + 5;
            if bytes.get(end) == Some(&b'.') {
                let sub = bytes[end + 1..]
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                if sub == 3 {
                    end += 4;
                }
            }
            if bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric()) {
                continue;
            }
            return text[start..end].parse().ok();
        }
        None
    }
}

impl FromStr for AttackId {
    type Err = AttackIdError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let upper = text.trim().to_ascii_uppercase();
        let bytes = upper.as_bytes();
        let well_formed = match bytes.len() {
            5 => bytes[0] == b'T' && bytes[1..].iter().all(u8::is_ascii_digit),
            9 => {
                bytes[0] == b'T'
                    && bytes[1..5].iter().all(u8::is_ascii_digit)
                    && bytes[5] == b'.'
                    && bytes[6..].iter().all(u8::is_ascii_digit)
            }
            _ => false,
        };
        if well_formed {
            Ok(AttackId(upper))
        } else {
            Err(AttackIdError(text.to_owned()))
        }
    }
}

impl fmt::Display for AttackId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<AttackId> for String {
    fn from(id: AttackId) -> String {
        id.0
    }
}

impl TryFrom<String> for AttackId {
    type Error = AttackIdError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_finds_technique_ids() {
        assert_eq!(
            "t1566.001".parse::<AttackId>().unwrap().as_str(),
            "T1566.001"
        );
        assert!("T15660".parse::<AttackId>().is_err());
        assert_eq!(
            AttackId::find_in("attack.t1059.001").unwrap().as_str(),
            "T1059.001"
        );
        assert_eq!(
            AttackId::find_in(r#"misp-galaxy:mitre-attack-pattern="Spearphishing Link - T1192""#)
                .unwrap()
                .as_str(),
            "T1192"
        );
        assert!(AttackId::find_in("HT1234 and T12345").is_none());
        assert_eq!(
            "T1566.002"
                .parse::<AttackId>()
                .unwrap()
                .parent()
                .unwrap()
                .as_str(),
            "T1566"
        );
    }
}
