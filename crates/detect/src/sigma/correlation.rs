//! Sigma correlation rules over rule matches: `event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, `value_sum`, `value_avg`, `value_percentile` (and `value_median`), with
//! group-by, field aliases, a sliding timespan and chaining (a correlation over another
//! correlation). State is bounded: at most [`Limits::max_groups`] groups per correlation and
//! [`Limits::max_entries`] remembered matches per group; the oldest is evicted and counted.

use std::collections::{HashMap, VecDeque};

use rsigma_parser::{
    ConditionExpr, ConditionOperator, CorrelationCondition, CorrelationRule, CorrelationType,
};
use serde::Serialize;

use super::mapping::{Mapping, resolve_path, scalar_text};
use super::ruleset::{RuleMatch, RuleSet};
use crate::event::Event;

/// Bounds on correlation state.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Groups kept per correlation rule; the least recently touched is evicted beyond it.
    pub max_groups: usize,
    /// Matches remembered per group; the oldest is evicted beyond it.
    pub max_entries: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_groups: 10_000,
            max_entries: 1_000,
        }
    }
}

/// Counters of what bounded state and missing timestamps cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CorrelationStats {
    pub groups_evicted: u64,
    pub entries_evicted: u64,
    /// Matches whose event had no time; correlations need one.
    pub events_without_time: u64,
}

/// A correlation rule whose condition held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorrelationMatch {
    pub rule_id: String,
    pub title: String,
    pub level: Option<String>,
    pub kind: &'static str,
    /// The group-by fields and their values.
    pub group: Vec<(String, String)>,
    /// The aggregate that met the condition (count, sum, average, percentile, rules seen).
    pub value: f64,
}

#[derive(Debug, Clone, Copy)]
enum Reference {
    Rule(usize),
    Correlation(usize),
}

struct Entry {
    millis: i64,
    reference: usize,
    value: Option<String>,
}

#[derive(Default)]
struct Group {
    entries: VecDeque<Entry>,
    touched: i64,
}

struct Compiled {
    rule: CorrelationRule,
    references: Vec<Reference>,
    groups: HashMap<Vec<String>, Group>,
}

/// Runs the correlation rules of a [`RuleSet`] over its matches.
pub struct CorrelationEngine {
    correlations: Vec<Compiled>,
    mapping: Mapping,
    limits: Limits,
    stats: CorrelationStats,
    /// Reasons correlation rules could not be used (unknown rule references).
    pub failures: Vec<String>,
}

impl CorrelationEngine {
    pub fn new(rules: &RuleSet, limits: Limits) -> CorrelationEngine {
        let all = rules.correlation_rules();
        let find_correlation = |name: &str| {
            all.iter().position(|c| {
                c.id.as_deref() == Some(name) || c.name.as_deref() == Some(name) || c.title == name
            })
        };
        let mut correlations = Vec::new();
        let mut failures = Vec::new();
        for rule in all {
            let mut references = Vec::new();
            for name in &rule.rules {
                if let Some(index) = rules.find(name) {
                    references.push(Reference::Rule(index));
                } else if let Some(index) = find_correlation(name) {
                    references.push(Reference::Correlation(index));
                } else {
                    failures.push(format!("correlation {}: unknown rule {name}", rule.title));
                }
            }
            correlations.push(Compiled {
                rule: rule.clone(),
                references,
                groups: HashMap::new(),
            });
        }
        CorrelationEngine {
            correlations,
            mapping: rules.mapping().clone(),
            limits,
            stats: CorrelationStats::default(),
            failures,
        }
    }

    pub fn stats(&self) -> CorrelationStats {
        self.stats
    }

    /// Feeds one rule match (with its event) and returns the correlations it completes,
    /// including chained ones.
    pub fn process(&mut self, found: &RuleMatch, event: &Event) -> Vec<CorrelationMatch> {
        let Some(time) = event.time else {
            self.stats.events_without_time += 1;
            return Vec::new();
        };
        let millis = time.as_millisecond();
        let mut out = Vec::new();
        self.feed(Reference::Rule(found.rule), event, millis, &mut out, 0);
        out
    }

    fn feed(
        &mut self,
        source: Reference,
        event: &Event,
        millis: i64,
        out: &mut Vec<CorrelationMatch>,
        depth: usize,
    ) {
        if depth > 8 {
            return;
        }
        for index in 0..self.correlations.len() {
            let positions: Vec<usize> = self.correlations[index]
                .references
                .iter()
                .enumerate()
                .filter(|(_, r)| match (r, source) {
                    (Reference::Rule(a), Reference::Rule(b)) => *a == b,
                    (Reference::Correlation(a), Reference::Correlation(b)) => *a == b,
                    _ => false,
                })
                .map(|(i, _)| i)
                .collect();
            for position in positions {
                if let Some(found) = self.update(index, position, event, millis) {
                    out.push(found);
                    self.feed(Reference::Correlation(index), event, millis, out, depth + 1);
                }
            }
        }
    }

    fn field_value(&self, event: &Event, field: &str) -> Option<String> {
        let layout = self.mapping.layout_of(event);
        self.mapping
            .field_paths(layout, field)
            .iter()
            .find_map(|p| resolve_path(&event.fields, p))
            .and_then(|v| scalar_text(v).map(|t| t.into_owned()))
    }

    /// The field a group-by name or alias stands for in events of the given reference.
    fn aliased(rule: &CorrelationRule, name: &str, reference: &str) -> String {
        rule.aliases
            .iter()
            .find(|a| a.alias == name)
            .and_then(|a| a.mapping.get(reference).cloned())
            .unwrap_or_else(|| name.to_string())
    }

    fn update(
        &mut self,
        index: usize,
        position: usize,
        event: &Event,
        millis: i64,
    ) -> Option<CorrelationMatch> {
        let rule = &self.correlations[index].rule;
        let reference_name = rule.rules.get(position).cloned().unwrap_or_default();
        let key: Vec<String> = rule
            .group_by
            .iter()
            .map(|name| {
                let field = Self::aliased(rule, name, &reference_name);
                self.field_value(event, &field).unwrap_or_default()
            })
            .collect();
        let value_field = match &rule.condition {
            CorrelationCondition::Threshold {
                field: Some(fields),
                ..
            } => fields.first().cloned(),
            _ => None,
        };
        let value = value_field.and_then(|f| {
            let field = Self::aliased(rule, &f, &reference_name);
            self.field_value(event, &field)
        });
        let window = rule.timespan.seconds as i64 * 1000;
        let limits = self.limits;
        let compiled = &mut self.correlations[index];
        if !compiled.groups.contains_key(&key) && compiled.groups.len() >= limits.max_groups {
            let oldest = compiled
                .groups
                .iter()
                .min_by_key(|(_, g)| g.touched)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                compiled.groups.remove(&oldest);
                self.stats.groups_evicted += 1;
            }
        }
        let group = compiled.groups.entry(key.clone()).or_default();
        group.touched = millis;
        group.entries.push_back(Entry {
            millis,
            reference: position,
            value,
        });
        while group.entries.len() > limits.max_entries {
            group.entries.pop_front();
            self.stats.entries_evicted += 1;
        }
        group
            .entries
            .retain(|e| e.millis > millis - window && e.millis <= millis);
        let rule = &compiled.rule;
        let aggregate = aggregate(rule, &group.entries)?;
        Some(CorrelationMatch {
            rule_id: rule.id.clone().unwrap_or_else(|| rule.title.clone()),
            title: rule.title.clone(),
            level: rule.level.map(|l| l.as_str().to_string()),
            kind: rule.correlation_type.as_str(),
            group: rule.group_by.iter().cloned().zip(key).collect(),
            value: aggregate,
        })
    }
}

fn holds(predicates: &[(ConditionOperator, u64)], value: f64) -> bool {
    predicates.iter().all(|(op, bound)| {
        let bound = *bound as f64;
        match op {
            ConditionOperator::Lt => value < bound,
            ConditionOperator::Lte => value <= bound,
            ConditionOperator::Gt => value > bound,
            ConditionOperator::Gte => value >= bound,
            ConditionOperator::Eq => value == bound,
            ConditionOperator::Neq => value != bound,
        }
    })
}

fn eval_rules_seen(expr: &ConditionExpr, seen: &dyn Fn(&str) -> bool) -> bool {
    match expr {
        ConditionExpr::And(parts) => parts.iter().all(|p| eval_rules_seen(p, seen)),
        ConditionExpr::Or(parts) => parts.iter().any(|p| eval_rules_seen(p, seen)),
        ConditionExpr::Not(inner) => !eval_rules_seen(inner, seen),
        ConditionExpr::Identifier(name) => seen(name),
        ConditionExpr::Selector { .. } => false,
    }
}

/// The aggregate when the condition holds over the entries in the window, else `None`.
fn aggregate(rule: &CorrelationRule, entries: &VecDeque<Entry>) -> Option<f64> {
    let references = rule.rules.len();
    let (predicates, percentile) = match &rule.condition {
        CorrelationCondition::Threshold {
            predicates,
            percentile,
            ..
        } => (predicates.as_slice(), percentile.unwrap_or(50)),
        CorrelationCondition::Extended(expr) => {
            let seen = |name: &str| {
                rule.rules
                    .iter()
                    .position(|r| r == name)
                    .is_some_and(|i| entries.iter().any(|e| e.reference == i))
            };
            return eval_rules_seen(expr, &seen).then_some(references as f64);
        }
    };
    // rsigma-parser writes an absent temporal condition as `gte: 1`; the specification's
    // default is that every referenced rule occurs, so that is what it means here.
    let default_temporal = predicates == [(ConditionOperator::Gte, 1)];
    let numbers = || {
        entries
            .iter()
            .filter_map(|e| e.value.as_deref()?.trim().parse::<f64>().ok())
    };
    let value = match rule.correlation_type {
        CorrelationType::EventCount => entries.len() as f64,
        CorrelationType::ValueCount => {
            let mut distinct: Vec<&str> =
                entries.iter().filter_map(|e| e.value.as_deref()).collect();
            distinct.sort_unstable();
            distinct.dedup();
            distinct.len() as f64
        }
        CorrelationType::Temporal => {
            let mut seen: Vec<usize> = entries.iter().map(|e| e.reference).collect();
            seen.sort_unstable();
            seen.dedup();
            if default_temporal {
                return (seen.len() == references).then_some(seen.len() as f64);
            }
            seen.len() as f64
        }
        CorrelationType::TemporalOrdered => {
            // The referenced rules must occur in the listed order within the window.
            let mut next = 0;
            for entry in entries {
                if entry.reference == next {
                    next += 1;
                    if next == references {
                        break;
                    }
                }
            }
            if default_temporal {
                return (next == references).then_some(next as f64);
            }
            next as f64
        }
        CorrelationType::ValueSum => numbers().sum(),
        CorrelationType::ValueAvg => {
            let values: Vec<f64> = numbers().collect();
            if values.is_empty() {
                return None;
            }
            values.iter().sum::<f64>() / values.len() as f64
        }
        CorrelationType::ValuePercentile | CorrelationType::ValueMedian => {
            let mut values: Vec<f64> = numbers().collect();
            if values.is_empty() {
                return None;
            }
            values.sort_by(|a, b| a.total_cmp(b));
            let rank = if rule.correlation_type == CorrelationType::ValueMedian {
                50
            } else {
                percentile.min(100)
            };
            // Nearest rank: the smallest value with at least rank% of values at or below it.
            let position = ((rank as f64 / 100.0) * values.len() as f64).ceil() as usize;
            values[position.clamp(1, values.len()) - 1]
        }
    };
    holds(predicates, value).then_some(value)
}
