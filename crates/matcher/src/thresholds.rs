//! The minimum score each consumer of the matcher acts on.

use serde::{Deserialize, Serialize};

/// Who acts on a hit. Each consumer has its own minimum score, because the cost of acting on
/// a weak indicator differs: an alert costs an analyst a look, a rejected mail costs a
/// customer a message, a blocked address costs a whole service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consumer {
    Alert,
    Mail,
    Blocklist,
}

/// Minimum scores (0–100) per consumer, as configured under `[matcher.thresholds]`.
///
/// The defaults follow the score's arithmetic (`rampart_intel::score`: reliability weight ×
/// confidence × decay, sources combined as independent evidence). A fresh statement from a
/// usually reliable source (B, weight 0.85) scores 42 at 50 % confidence and 59 at 70 %; from a
/// completely reliable one (A) at 70 %, 70; two agreeing B sources at 50 %, 67. Hence
/// - `alert = 30`: any single reasonably trusted, recent statement raises an alert, while
///   half-decayed or low-confidence ones stay quiet;
/// - `mail = 60`: acting on a message needs a confident statement from a good source, or
///   two sources agreeing;
/// - `blocklist = 70`: blocking disrupts the most, so it waits for the strongest evidence:
///   a top source at high confidence, or several sources.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Minimum score for detection to raise an alert.
    pub alert: f32,
    /// Minimum score for the mail filter to act.
    pub mail: f32,
    /// Minimum score for a value to go into published block lists.
    pub blocklist: f32,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            alert: 30.0,
            mail: 60.0,
            blocklist: 70.0,
        }
    }
}

impl Thresholds {
    pub fn minimum(&self, consumer: Consumer) -> f32 {
        match consumer {
            Consumer::Alert => self.alert,
            Consumer::Mail => self.mail,
            Consumer::Blocklist => self.blocklist,
        }
    }

    /// Whether `score` reaches `consumer`'s minimum.
    pub fn passes(&self, consumer: Consumer, score: u8) -> bool {
        f32::from(score) >= self.minimum(consumer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_partial_configuration() {
        let partial: Thresholds = toml::from_str("mail = 55").unwrap();
        assert_eq!(partial.mail, 55.0);
        assert_eq!(partial.alert, 30.0);
        assert_eq!(partial.blocklist, 70.0);
        assert!(toml::from_str::<Thresholds>("mial = 55").is_err());
        assert!(partial.passes(Consumer::Alert, 30));
        assert!(!partial.passes(Consumer::Alert, 29));
        assert!(!partial.passes(Consumer::Blocklist, 69));
    }
}
