//! Which values a pattern names that Rampart can enforce, and whether enforcing them as a
//! plain set means the same as the pattern.
//!
//! A value set matches "any of these values", so a pattern is fully enforceable only when its
//! observations are joined by `OR` and each one is an `OR` of `=`/`IN` comparisons on
//! matchable paths. Anything else (`AND`, `FOLLOWEDBY`, qualifiers, negation, other
//! operators or paths) still yields its matchable values, with the reason it is not enforced
//! as written.

use std::collections::HashSet;

use rampart_model::{Indicator, IndicatorKind};

use super::{
    CompareOp, Comparison, ComparisonExpr, Literal, ObservationExpr, PathStep, Pattern, Qualifier,
    Test,
};

/// A path whose values Rampart can match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `ipv4-addr:value` (an address or a CIDR).
    Ipv4Addr,
    /// `ipv6-addr:value` (an address or a CIDR).
    Ipv6Addr,
    /// `domain-name:value`
    DomainName,
    /// `url:value`
    Url,
    /// `email-addr:value`, `email-message:from_ref.value`, `email-message:sender_ref.value`
    EmailAddr,
    /// `file:hashes.X` for MD5, SHA-1, SHA-256 and SHA-512.
    FileHash(IndicatorKind),
}

impl Target {
    /// The matchable target of a path, if it has one.
    pub fn of_path(object_type: &str, steps: &[PathStep]) -> Option<Target> {
        let key = |index: usize| match steps.get(index) {
            Some(PathStep::Key(key)) => Some(key.as_str()),
            _ => None,
        };
        match (object_type, steps.len()) {
            ("ipv4-addr", 1) if key(0) == Some("value") => Some(Target::Ipv4Addr),
            ("ipv6-addr", 1) if key(0) == Some("value") => Some(Target::Ipv6Addr),
            ("domain-name", 1) if key(0) == Some("value") => Some(Target::DomainName),
            ("url", 1) if key(0) == Some("value") => Some(Target::Url),
            ("email-addr", 1) if key(0) == Some("value") => Some(Target::EmailAddr),
            ("email-message", 2)
                if matches!(key(0), Some("from_ref" | "sender_ref")) && key(1) == Some("value") =>
            {
                Some(Target::EmailAddr)
            }
            ("file", 2) if key(0) == Some("hashes") => {
                key(1).and_then(hash_kind).map(Target::FileHash)
            }
            _ => None,
        }
    }

    /// The STIX object type the target belongs to, as an observable (`ipv4-addr`, `file`, …).
    pub fn object_type(self) -> &'static str {
        match self {
            Target::Ipv4Addr => "ipv4-addr",
            Target::Ipv6Addr => "ipv6-addr",
            Target::DomainName => "domain-name",
            Target::Url => "url",
            Target::EmailAddr => "email-addr",
            Target::FileHash(_) => "file",
        }
    }

    /// Canonicalises a value compared with this target. IP targets take CIDRs too, and a
    /// value of the other address family is refused.
    pub fn indicator(self, raw: &str) -> Result<Indicator, String> {
        let kind = match self {
            Target::Ipv4Addr | Target::Ipv6Addr if raw.contains('/') => IndicatorKind::Cidr,
            Target::Ipv4Addr => IndicatorKind::Ipv4,
            Target::Ipv6Addr => IndicatorKind::Ipv6,
            Target::DomainName => IndicatorKind::Domain,
            Target::Url => IndicatorKind::Url,
            Target::EmailAddr => IndicatorKind::Email,
            Target::FileHash(kind) => kind,
        };
        let indicator = Indicator::parse(kind, raw).map_err(|err| err.to_string())?;
        if indicator.kind().is_network() {
            let is_v6 = indicator.value().contains(':');
            if is_v6 != (self == Target::Ipv6Addr) {
                let family = if is_v6 { "an IPv6" } else { "an IPv4" };
                return Err(format!("{family} value for {}", self.object_type()));
            }
        }
        Ok(indicator)
    }
}

/// Hash names of `file:hashes`, case-insensitive, with and without the hyphen.
pub fn hash_kind(name: &str) -> Option<IndicatorKind> {
    const NAMES: [(&str, IndicatorKind); 7] = [
        ("md5", IndicatorKind::Md5),
        ("sha-1", IndicatorKind::Sha1),
        ("sha1", IndicatorKind::Sha1),
        ("sha-256", IndicatorKind::Sha256),
        ("sha256", IndicatorKind::Sha256),
        ("sha-512", IndicatorKind::Sha512),
        ("sha512", IndicatorKind::Sha512),
    ];
    NAMES
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name))
        .map(|(_, kind)| *kind)
}

/// One matchable value as written in the pattern (not yet canonical).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    pub target: Target,
    pub value: String,
}

/// What a pattern yields for enforcement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extraction {
    /// Matchable values in pattern order, without repeats.
    pub values: Vec<Extracted>,
    /// Why enforcing `values` as a set is not what the pattern says; `None` when it is.
    /// Several reasons are joined with `; `.
    pub unenforced: Option<String>,
}

impl Extraction {
    /// Records one more reason the pattern is not enforced as written.
    pub fn add_reason(&mut self, reason: &str) {
        match &mut self.unenforced {
            None => self.unenforced = Some(reason.to_owned()),
            Some(reasons) => {
                if !reasons.split("; ").any(|known| known == reason) {
                    reasons.push_str("; ");
                    reasons.push_str(reason);
                }
            }
        }
    }
}

/// Walks a parsed pattern for its matchable values.
pub fn extract(pattern: &Pattern) -> Extraction {
    let mut extraction = Extraction::default();
    observation(&pattern.expression, &mut extraction);
    if extraction.values.len() > 1 {
        let mut seen = HashSet::with_capacity(extraction.values.len());
        extraction
            .values
            .retain(|value| seen.insert((value.target, value.value.clone())));
    }
    extraction
}

fn observation(expression: &ObservationExpr, out: &mut Extraction) {
    match expression {
        ObservationExpr::Observation(inner) => comparison_expr(inner, out),
        ObservationExpr::Or(items) => items.iter().for_each(|item| observation(item, out)),
        ObservationExpr::And(items) => {
            out.add_reason("observation expressions joined by AND are not enforced");
            items.iter().for_each(|item| observation(item, out));
        }
        ObservationExpr::FollowedBy(items) => {
            out.add_reason("observation expressions joined by FOLLOWEDBY are not enforced");
            items.iter().for_each(|item| observation(item, out));
        }
        ObservationExpr::Qualified(inner, qualifier) => {
            out.add_reason(match qualifier {
                Qualifier::Within(_) => "WITHIN qualifier is not enforced",
                Qualifier::Repeats(_) => "REPEATS qualifier is not enforced",
                Qualifier::StartStop { .. } => "START/STOP qualifier is not enforced",
            });
            observation(inner, out);
        }
    }
}

fn comparison_expr(expression: &ComparisonExpr, out: &mut Extraction) {
    match expression {
        ComparisonExpr::Comparison(test) => comparison(test, out),
        ComparisonExpr::Or(items) => items.iter().for_each(|item| comparison_expr(item, out)),
        ComparisonExpr::And(items) => {
            out.add_reason("comparisons joined by AND are not enforced");
            items.iter().for_each(|item| comparison_expr(item, out));
        }
    }
}

fn comparison(test: &Comparison, out: &mut Extraction) {
    let path = &test.path;
    let Some(target) = Target::of_path(&path.object_type, &path.steps) else {
        out.add_reason(&format!("comparison on {path} is not matchable"));
        return;
    };
    if test.negated {
        out.add_reason(&format!("negated comparison on {path} is not enforced"));
        return;
    }
    let literals: &[Literal] = match &test.test {
        Test::Compare(CompareOp::Equal, literal) => std::slice::from_ref(literal),
        Test::In(items) => items,
        other => {
            out.add_reason(&format!(
                "{} comparison on {path} is not matchable",
                other.operator()
            ));
            return;
        }
    };
    for literal in literals {
        let Literal::Str(value) = literal else {
            out.add_reason(&format!(
                "non-string value compared with {path} is not matchable"
            ));
            continue;
        };
        out.values.push(Extracted {
            target,
            value: value.clone(),
        });
    }
}
