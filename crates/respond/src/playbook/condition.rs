//! Conditions over a run's facts: `{ field: indicator.score, gte: 70 }`.
//!
//! A field may hold several values (a list, or a path that fans out): a positive test holds
//! when any value passes, a negative one (`not_equals`, `not_in`, `not_in_networks`) when none
//! fails. Text compares ignoring ASCII case.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::Value;

use super::facts::Facts;

/// One condition: a field and a test.
#[derive(Debug, Clone, Deserialize)]
pub struct Condition {
    pub field: String,
    #[serde(flatten)]
    pub test: Test,
}

/// What a condition asks of its field.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    Equals(Scalar),
    NotEquals(Scalar),
    In(Vec<Scalar>),
    NotIn(Vec<Scalar>),
    /// A text value contains this text.
    Contains(String),
    /// A text value matches this regular expression (Rust syntax, unanchored).
    Matches(#[serde(with = "regex_text")] regex::Regex),
    Gt(f64),
    Gte(f64),
    Lt(f64),
    Lte(f64),
    /// The field has (true) or lacks (false) a value.
    Exists(bool),
    /// An address value lies in one of these networks.
    InNetworks(Vec<IpNet>),
    NotInNetworks(Vec<IpNet>),
}

/// A literal to compare with: text, number or boolean.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Number(f64),
    Text(String),
}

impl Scalar {
    fn matches(&self, value: &Value) -> bool {
        match (self, value) {
            (Scalar::Bool(expected), Value::Bool(actual)) => expected == actual,
            (Scalar::Number(expected), _) => {
                number(value).is_some_and(|actual| actual == *expected)
            }
            (Scalar::Text(expected), Value::String(actual)) => {
                expected.eq_ignore_ascii_case(actual)
            }
            (Scalar::Text(expected), Value::Number(actual)) => expected == &actual.to_string(),
            _ => false,
        }
    }
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn address(value: &Value) -> Option<IpAddr> {
    value.as_str().and_then(|text| text.trim().parse().ok())
}

impl Condition {
    /// Whether the facts pass this condition.
    pub fn holds(&self, facts: &Facts) -> bool {
        let values = facts.values(&self.field);
        let any = |test: &dyn Fn(&Value) -> bool| values.iter().any(|value| test(value));
        match &self.test {
            Test::Equals(expected) => any(&|value| expected.matches(value)),
            Test::NotEquals(expected) => !any(&|value| expected.matches(value)),
            Test::In(options) => any(&|value| options.iter().any(|option| option.matches(value))),
            Test::NotIn(options) => {
                !any(&|value| options.iter().any(|option| option.matches(value)))
            }
            Test::Contains(needle) => {
                let needle = needle.to_ascii_lowercase();
                any(&|value| {
                    value
                        .as_str()
                        .is_some_and(|text| text.to_ascii_lowercase().contains(&needle))
                })
            }
            Test::Matches(regex) => {
                any(&|value| value.as_str().is_some_and(|text| regex.is_match(text)))
            }
            Test::Gt(limit) => any(&|value| number(value).is_some_and(|actual| actual > *limit)),
            Test::Gte(limit) => any(&|value| number(value).is_some_and(|actual| actual >= *limit)),
            Test::Lt(limit) => any(&|value| number(value).is_some_and(|actual| actual < *limit)),
            Test::Lte(limit) => any(&|value| number(value).is_some_and(|actual| actual <= *limit)),
            Test::Exists(wanted) => values.is_empty() != *wanted,
            Test::InNetworks(networks) => any(&|value| {
                address(value).is_some_and(|ip| networks.iter().any(|net| net.contains(&ip)))
            }),
            Test::NotInNetworks(networks) => !any(&|value| {
                address(value).is_some_and(|ip| networks.iter().any(|net| net.contains(&ip)))
            }),
        }
    }
}

mod regex_text {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<regex::Regex, D::Error> {
        let text = String::deserialize(deserializer)?;
        regex::RegexBuilder::new(&text)
            .size_limit(1 << 20)
            .build()
            .map_err(|err| {
                serde::de::Error::custom(format!("invalid regular expression {text:?}: {err}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn condition(yaml: &str) -> Condition {
        super::super::from_yaml(yaml).expect("condition parses")
    }

    fn facts() -> Facts {
        Facts::new(json!({
            "indicator": { "score": 82.5, "kind": "url", "labels": ["Phishing", "credential"] },
            "alert": { "matched": { "source.ip": ["10.1.2.3", "203.0.113.9"] }, "severity": "high" },
        }))
    }

    #[test]
    fn each_test_passes_and_fails() {
        let cases = [
            ("{field: indicator.score, gte: 82.5}", true),
            ("{field: indicator.score, gt: 82.5}", false),
            ("{field: indicator.score, lt: 90}", true),
            ("{field: indicator.score, lte: 80}", false),
            ("{field: indicator.kind, equals: URL}", true),
            ("{field: indicator.kind, not_equals: url}", false),
            ("{field: indicator.labels, equals: phishing}", true),
            ("{field: indicator.labels, in: [malware, credential]}", true),
            ("{field: indicator.labels, not_in: [malware]}", true),
            ("{field: indicator.labels, contains: PHISH}", true),
            ("{field: indicator.labels, matches: '^cred'}", true),
            ("{field: indicator.labels, matches: '^Cred'}", false),
            ("{field: alert.severity, in: [high, critical]}", true),
            ("{field: indicator.missing, exists: false}", true),
            ("{field: indicator.score, exists: false}", false),
            (
                "{field: alert.matched.source.ip, in_networks: ['10.0.0.0/8']}",
                true,
            ),
            (
                "{field: alert.matched.source.ip, not_in_networks: ['10.0.0.0/8']}",
                false,
            ),
            (
                "{field: alert.matched.source.ip, not_in_networks: ['192.168.0.0/16']}",
                true,
            ),
        ];
        for (yaml, expected) in cases {
            assert_eq!(condition(yaml).holds(&facts()), expected, "{yaml}");
        }
    }

    #[test]
    fn bad_conditions_are_refused() {
        for yaml in [
            "{field: a, gtee: 1}",
            "{field: a, matches: '('}",
            "{field: a, in_networks: [not-a-net]}",
            "{gte: 1}",
        ] {
            assert!(
                super::super::from_yaml::<Condition>(yaml).is_err(),
                "{yaml}"
            );
        }
    }
}
