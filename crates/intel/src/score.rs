//! Scoring: an indicator's 0–100 score from its sources' statements, with the arithmetic
//! explained.
//!
//! Each active statement contributes `reliability × confidence × decay(age)`:
//! - *reliability* is the source's Admiralty grade as a weight ([`Reliability::weight`]);
//! - *confidence* is the statement's own 0–100 confidence (or the source default), as 0–1;
//! - *decay* follows MISP's polynomial decay model, `1 − (t/τ)^(1/δ)` for an age `t` since the
//!   source last saw the value, a lifetime `τ` and a speed `δ` per indicator kind ([`DecayModel`]):
//!   IPs lose value within weeks, hashes over years.
//!
//! Independent sources reinforce each other like independent pieces of evidence ("noisy OR"):
//! `score = 100 × (1 − Π(1 − contributionᵢ))`. Two sources at 0.5 give 75, three give 87.5.
//! Statements that are revoked, withdrawn (no longer on a full-list feed) or past their
//! `valid_until` contribute nothing. Suppression does not change the score; it stops enforcement.

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use rampart_model::{IndicatorKind, Reliability};
use rampart_store::{SourceStatement, StoredIndicator};
use serde::Serialize;

/// Lifetime and decay speed of one indicator kind, as in MISP's decay model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DecayModel {
    /// Days after which a statement is worth nothing (τ).
    pub lifetime_days: f64,
    /// δ: above 1 the value drops fast at first, below 1 it holds and then drops late.
    pub speed: f64,
}

impl DecayModel {
    /// The default model per kind. Attackers move IPs within days and rent domains for weeks;
    /// a file hash identifies the same malware for years.
    pub fn for_kind(kind: IndicatorKind) -> DecayModel {
        let (lifetime_days, speed) = match kind {
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => (30.0, 2.0),
            IndicatorKind::Cidr => (90.0, 1.5),
            IndicatorKind::Url => (60.0, 1.5),
            IndicatorKind::Domain => (120.0, 1.0),
            IndicatorKind::Email => (180.0, 1.0),
            IndicatorKind::Md5
            | IndicatorKind::Sha1
            | IndicatorKind::Sha256
            | IndicatorKind::Sha512 => (730.0, 0.5),
        };
        DecayModel {
            lifetime_days,
            speed,
        }
    }

    /// The remaining fraction (0–1) after `age_days`.
    pub fn factor(&self, age_days: f64) -> f64 {
        if age_days <= 0.0 {
            return 1.0;
        }
        if age_days >= self.lifetime_days {
            return 0.0;
        }
        (1.0 - (age_days / self.lifetime_days).powf(1.0 / self.speed)).clamp(0.0, 1.0)
    }
}

/// Why one statement counts for what it counts.
#[derive(Debug, Clone, Serialize)]
pub struct Contribution {
    pub source: String,
    pub reliability: Reliability,
    pub reliability_weight: f64,
    pub confidence: u8,
    pub age_days: f64,
    pub decay: f64,
    /// reliability_weight × confidence/100 × decay, or 0 when inactive.
    pub value: f64,
    /// Why the statement does not count, if it does not.
    pub inactive: Option<String>,
}

/// A score with the arithmetic that produced it.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreExplanation {
    pub score: u8,
    pub kind: IndicatorKind,
    pub decay_model: DecayModel,
    pub contributions: Vec<Contribution>,
    pub suppressed: Option<String>,
}

/// Scores an indicator at `now`.
pub fn score(indicator: &StoredIndicator, now: Timestamp) -> ScoreExplanation {
    let kind = indicator.indicator.kind();
    let model = DecayModel::for_kind(kind);
    let contributions: Vec<Contribution> = indicator
        .sources
        .iter()
        .map(|statement| contribution(statement, &model, now))
        .collect();
    let remaining: f64 = contributions.iter().map(|c| 1.0 - c.value).product();
    let score = (100.0 * (1.0 - remaining)).round().clamp(0.0, 100.0) as u8;
    ScoreExplanation {
        score,
        kind,
        decay_model: model,
        contributions,
        suppressed: indicator.suppressed.clone(),
    }
}

fn contribution(statement: &SourceStatement, model: &DecayModel, now: Timestamp) -> Contribution {
    let age = now.duration_since(statement.last_seen);
    let age_days = if age.is_negative() {
        0.0
    } else {
        age.as_secs_f64() / SignedDuration::from_hours(24).as_secs_f64()
    };
    let decay = model.factor(age_days);
    let weight = statement.reliability.weight();
    let inactive = if statement.revoked {
        Some("revoked by the source".to_owned())
    } else if let Some(at) = statement.withdrawn_at {
        Some(format!("no longer listed by the source since {at}"))
    } else {
        statement
            .valid_until
            .filter(|until| *until <= now)
            .map(|until| format!("expired at {until} (valid_until)"))
    };
    let value = if inactive.is_some() {
        0.0
    } else {
        weight * f64::from(statement.confidence.min(100)) / 100.0 * decay
    };
    Contribution {
        source: statement.source.clone(),
        reliability: statement.reliability,
        reliability_weight: weight,
        confidence: statement.confidence,
        age_days,
        decay,
        value,
        inactive,
    }
}

impl fmt::Display for ScoreExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "score {} = 100 × (1 − Π(1 − contribution)) over {} source statement(s)",
            self.score,
            self.contributions.len()
        )?;
        writeln!(
            f,
            "decay model for {}: 1 − (age/{} d)^(1/{})",
            self.kind, self.decay_model.lifetime_days, self.decay_model.speed
        )?;
        for c in &self.contributions {
            match &c.inactive {
                Some(reason) => writeln!(f, "  {:<24} contributes 0: {reason}", c.source)?,
                None => writeln!(
                    f,
                    "  {:<24} reliability {} ({:.2}) × confidence {}/100 × decay {:.3} (age {:.1} d) = {:.3}",
                    c.source,
                    c.reliability,
                    c.reliability_weight,
                    c.confidence,
                    c.decay,
                    c.age_days,
                    c.value
                )?,
            }
        }
        if let Some(reason) = &self.suppressed {
            writeln!(f, "suppressed, never enforced: {reason}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_model::{Indicator, Tlp};

    fn statement(
        source: &str,
        reliability: Reliability,
        confidence: u8,
        last_seen: Timestamp,
    ) -> SourceStatement {
        SourceStatement {
            source: source.into(),
            reliability,
            first_seen: last_seen,
            last_seen,
            confidence,
            tlp: Tlp::Clear,
            labels: vec![],
            techniques: vec![],
            threats: vec![],
            reference: "line 1".into(),
            valid_until: None,
            revoked: false,
            withdrawn_at: None,
            direction: None,
            port: None,
            pattern: None,
        }
    }

    fn stored(kind: IndicatorKind, value: &str, sources: Vec<SourceStatement>) -> StoredIndicator {
        StoredIndicator {
            id: 1,
            indicator: Indicator::parse(kind, value).unwrap(),
            first_seen: sources[0].first_seen,
            suppressed: None,
            sources,
        }
    }

    #[test]
    fn decay_follows_the_polynomial_model() {
        let linear = DecayModel {
            lifetime_days: 100.0,
            speed: 1.0,
        };
        assert!((linear.factor(25.0) - 0.75).abs() < 1e-9);
        let fast = DecayModel {
            lifetime_days: 100.0,
            speed: 2.0,
        };
        assert!((fast.factor(25.0) - 0.5).abs() < 1e-9);
        let slow = DecayModel {
            lifetime_days: 100.0,
            speed: 0.5,
        };
        assert!((slow.factor(50.0) - 0.75).abs() < 1e-9);
        assert_eq!(linear.factor(150.0), 0.0);
        assert_eq!(linear.factor(-1.0), 1.0);
    }

    #[test]
    fn independent_sources_reinforce_and_inactive_ones_do_not_count() {
        let now: Timestamp = "2026-11-01T00:00:00Z".parse().unwrap();
        let one = stored(
            IndicatorKind::Sha256,
            &"a".repeat(64),
            vec![statement("a", Reliability::A, 50, now)],
        );
        assert_eq!(score(&one, now).score, 50);
        let two = stored(
            IndicatorKind::Sha256,
            &"a".repeat(64),
            vec![
                statement("a", Reliability::A, 50, now),
                statement("b", Reliability::A, 50, now),
            ],
        );
        assert_eq!(score(&two, now).score, 75);
        let mut revoked = statement("b", Reliability::A, 100, now);
        revoked.revoked = true;
        let with_revoked = stored(
            IndicatorKind::Sha256,
            &"a".repeat(64),
            vec![statement("a", Reliability::A, 50, now), revoked],
        );
        let explained = score(&with_revoked, now);
        assert_eq!(explained.score, 50);
        assert!(explained.to_string().contains("revoked by the source"));
    }

    #[test]
    fn ips_decay_faster_than_hashes() {
        let seen: Timestamp = "2026-10-01T00:00:00Z".parse().unwrap();
        let now: Timestamp = "2026-10-15T00:00:00Z".parse().unwrap();
        let ip = stored(
            IndicatorKind::Ipv4,
            "203.0.113.9",
            vec![statement("a", Reliability::B, 80, seen)],
        );
        let hash = stored(
            IndicatorKind::Md5,
            &"b".repeat(32),
            vec![statement("a", Reliability::B, 80, seen)],
        );
        let (ip_score, hash_score) = (score(&ip, now).score, score(&hash, now).score);
        // ip: 0.85 × 0.8 × (1 − (14/30)^(1/2)) = 0.2155…; hash: 0.85 × 0.8 × (1 − (14/730)^2) ≈ 0.68
        assert_eq!(ip_score, 22);
        assert_eq!(hash_score, 68);
    }
}
