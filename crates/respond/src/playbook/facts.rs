//! The facts a run works from: the triggering object (and what the run learned on the way) as a
//! JSON tree that conditions test and templates read by dotted path.
//!
//! A path walks objects by key and fans out over lists, so `indicator.sources` gives every
//! source name and `alert.matched.source.ip` the matched `source.ip` values (keys may hold dots
//! themselves: the longest key that exists wins).

use rampart_model::{Detection, Indicator, IndicatorKind};
use rampart_store::{StoredAlert, StoredIndicator};
use serde_json::{Map, Value, json};

/// The facts of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    root: Value,
}

/// What started a run, with what the caller knows about it.
#[derive(Debug, Clone)]
pub enum Subject {
    Alert {
        alert: Box<StoredAlert>,
        /// The asset the alert's host belongs to, if the inventory knows it.
        host: Option<String>,
    },
    Indicator {
        indicator: StoredIndicator,
        /// The indicator's current score (the intel stage computes it).
        score: f64,
    },
    /// An analysed phishing report, as the mail stage describes it.
    Report(Value),
    Schedule {
        name: String,
    },
}

impl Facts {
    /// Facts over any JSON object (tests, `playbook test` samples).
    pub fn new(root: Value) -> Facts {
        Facts { root }
    }

    /// The facts of a subject: `{"alert": …}`, `{"indicator": …}`, `{"report": …}` or
    /// `{"schedule": …}`.
    pub fn of(subject: &Subject) -> Facts {
        let root = match subject {
            Subject::Alert { alert, host } => {
                json!({ "alert": alert_facts(alert, host.as_deref()) })
            }
            Subject::Indicator { indicator, score } => {
                json!({ "indicator": indicator_facts(indicator, *score) })
            }
            Subject::Report(report) => json!({ "report": report }),
            Subject::Schedule { name } => json!({ "schedule": { "name": name } }),
        };
        Facts { root }
    }

    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Adds what the run learned (an enrichment, the case it opened) under `key`.
    pub fn insert(&mut self, key: &str, value: Value) {
        if let Value::Object(map) = &mut self.root {
            map.insert(key.to_owned(), value);
        }
    }

    /// Every value at `path`, lists flattened.
    pub fn values(&self, path: &str) -> Vec<&Value> {
        let segments: Vec<&str> = path.split('.').collect();
        let mut found = Vec::new();
        walk(&self.root, &segments, &mut found);
        found
    }

    /// The value at `path` as it stands (a list stays a list), or `None`.
    pub fn first_value(&self, path: &str) -> Option<&Value> {
        let segments: Vec<&str> = path.split('.').collect();
        lookup(&self.root, &segments)
    }

    /// The indicators the subject is about: the triggering indicator, or the one an alert
    /// matched.
    pub fn subject_indicators(&self) -> Vec<Indicator> {
        let mut indicators = Vec::new();
        for root in ["indicator", "alert.indicator"] {
            let kind = self
                .first_value(&format!("{root}.kind"))
                .and_then(Value::as_str);
            let value = self
                .first_value(&format!("{root}.value"))
                .and_then(Value::as_str);
            if let (Some(kind), Some(value)) = (kind, value)
                && let Ok(kind) = kind.parse::<IndicatorKind>()
                && let Ok(indicator) = Indicator::parse(kind, value)
            {
                indicators.push(indicator);
            }
        }
        indicators
    }
}

fn walk<'a>(value: &'a Value, segments: &[&str], found: &mut Vec<&'a Value>) {
    if segments.is_empty() {
        match value {
            Value::Array(items) => found.extend(items.iter().filter(|item| !item.is_null())),
            Value::Null => {}
            other => found.push(other),
        }
        return;
    }
    match value {
        Value::Array(items) => {
            for item in items {
                walk(item, segments, found);
            }
        }
        Value::Object(map) => {
            for taken in (1..=segments.len()).rev() {
                if let Some(child) = map.get(&segments[..taken].join(".")) {
                    walk(child, &segments[taken..], found);
                    return;
                }
            }
        }
        _ => {}
    }
}

fn lookup<'a>(value: &'a Value, segments: &[&str]) -> Option<&'a Value> {
    if segments.is_empty() {
        return Some(value);
    }
    let Value::Object(map) = value else {
        return None;
    };
    (1..=segments.len()).rev().find_map(|taken| {
        map.get(&segments[..taken].join("."))
            .and_then(|child| lookup(child, &segments[taken..]))
    })
}

fn alert_facts(stored: &StoredAlert, host: Option<&str>) -> Value {
    let alert = &stored.alert;
    let mut matched: Map<String, Value> = Map::new();
    for field in &alert.matched {
        let values = matched
            .entry(field.field.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = values {
            values.push(Value::String(field.value.clone()));
        }
    }
    let (rule_id, indicator) = match &alert.detection {
        Detection::Sigma { rule_id, .. } | Detection::Correlation { rule_id, .. } => {
            (Some(rule_id.clone()), Value::Null)
        }
        // An alert imported from another tool: its rule is the tool and its reference.
        Detection::External {
            source, source_ref, ..
        } => (Some(format!("{source}:{source_ref}")), Value::Null),
        Detection::Indicator {
            id,
            kind,
            value,
            score,
            sources,
        } => (
            None,
            json!({ "id": id, "kind": kind, "value": value, "score": score, "sources": sources }),
        ),
    };
    json!({
        "id": stored.id,
        "key": alert.key,
        "rule": alert.detection.label(),
        "rule_id": rule_id,
        "severity": alert.severity,
        "techniques": alert.techniques,
        "matched": matched,
        "indicator": indicator,
        "source": alert.event.source,
        "host": host,
        "first_seen": alert.first_seen,
        "last_seen": alert.last_seen,
        "count": alert.count,
        "retro": alert.retro,
        "status": stored.status,
    })
}

fn indicator_facts(stored: &StoredIndicator, score: f64) -> Value {
    let mut labels = Vec::new();
    let mut threats = Vec::new();
    let mut techniques = Vec::new();
    for statement in &stored.sources {
        labels.extend(statement.labels.iter().cloned());
        threats.extend(statement.threats.iter().cloned());
        techniques.extend(statement.techniques.iter().map(|id| id.as_str().to_owned()));
    }
    for list in [&mut labels, &mut threats, &mut techniques] {
        list.sort();
        list.dedup();
    }
    json!({
        "id": stored.id,
        "kind": stored.indicator.kind(),
        "value": stored.indicator.value(),
        "host": stored.indicator.host(),
        "score": score,
        "sources": stored.sources.iter().map(|statement| statement.source.as_str()).collect::<Vec<_>>(),
        "labels": labels,
        "threats": threats,
        "techniques": techniques,
        "tlp": stored.tlp(),
        "suppressed": stored.suppressed,
        "first_seen": stored.first_seen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fan_out_over_lists_and_take_dotted_keys() {
        let facts = Facts::new(json!({
            "alert": {
                "matched": { "source.ip": ["203.0.113.7", "203.0.113.8"], "user": ["bob"] },
                "techniques": ["T1110.001"],
            },
            "indicator": { "sources": [{ "name": "a" }, { "name": "b" }] },
        }));
        let ips: Vec<_> = facts
            .values("alert.matched.source.ip")
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(ips, ["203.0.113.7", "203.0.113.8"]);
        let names: Vec<_> = facts
            .values("indicator.sources.name")
            .into_iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(names, ["a", "b"]);
        assert!(facts.values("alert.nothing").is_empty());
        assert_eq!(
            facts.first_value("alert.techniques"),
            Some(&json!(["T1110.001"]))
        );
    }
}
