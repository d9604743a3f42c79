//! One detection pass over one event: Sigma rules (and the correlations over their matches) and
//! indicator matching, both raising the same [`Alert`] type.
//!
//! A [`Detector`] belongs to one worker: the compiled rules and the matcher are shared
//! (`Arc`, lock-free snapshot), the correlation state is the worker's own.

use std::sync::Arc;

use jiff::Timestamp;
use rampart_matcher::{Consumer, Hit, Matcher, ValueHint, View};
use rampart_model::{Alert, AttackId, Detection, MatchedField, Severity};
use serde::Serialize;

use crate::event::Event;
use crate::mappings::{FieldMap, Observable, ObservableKind};
use crate::packs::RuleState;
use crate::sigma::{CorrelationEngine, CorrelationMatch, Limits, RuleMatch, RuleSet};

/// What a detector has seen, for summaries and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DetectorStats {
    pub events: u64,
    /// Events that raised at least one alert.
    pub events_matched: u64,
    pub sigma_matches: u64,
    /// Sigma matches of rules an override disabled.
    pub sigma_disabled: u64,
    pub correlation_matches: u64,
    pub indicator_matches: u64,
    /// Indicator hits whose score is below the alert threshold.
    pub indicator_below_threshold: u64,
    /// Events of a format no field mapping covers (not looked up).
    pub events_unmapped: u64,
}

/// Sigma and indicator detection for one worker.
pub struct Detector {
    rules: Option<Arc<RuleSet>>,
    overrides: Arc<RuleState>,
    correlations: Option<CorrelationEngine>,
    matcher: Option<Matcher>,
    pub stats: DetectorStats,
}

impl Detector {
    /// A detector over `rules` (with the analyst's per-rule `overrides`) and `matcher`; either
    /// may be absent.
    pub fn new(
        rules: Option<Arc<RuleSet>>,
        overrides: Arc<RuleState>,
        matcher: Option<Matcher>,
        limits: Limits,
    ) -> Detector {
        let correlations = rules
            .as_deref()
            .filter(|rules| !rules.correlation_rules().is_empty())
            .map(|rules| CorrelationEngine::new(rules, limits));
        Detector {
            rules,
            overrides,
            correlations,
            matcher,
            stats: DetectorStats::default(),
        }
    }

    /// The correlation engine, for its counters and failures.
    pub fn correlations(&self) -> Option<&CorrelationEngine> {
        self.correlations.as_ref()
    }

    /// Runs every detection over `event`, handing each alert to `emit`.
    pub fn process(&mut self, event: &Event, emit: &mut dyn FnMut(Alert)) {
        self.stats.events += 1;
        let before = self.stats.sigma_matches
            + self.stats.correlation_matches
            + self.stats.indicator_matches;
        let at = event.time.unwrap_or_else(Timestamp::now);
        if let Some(rules) = self.rules.clone() {
            let mut found = Vec::new();
            rules.evaluate(event, &mut |m| found.push(m));
            for rule_match in found {
                if !self.overrides.is_enabled(&rule_match.rule_id) {
                    self.stats.sigma_disabled += 1;
                    continue;
                }
                self.stats.sigma_matches += 1;
                if let Some(engine) = self.correlations.as_mut() {
                    for fired in engine.process(&rule_match, event) {
                        self.stats.correlation_matches += 1;
                        emit(correlation_alert(&fired, &self.overrides, event, at));
                    }
                }
                emit(sigma_alert(rule_match, &self.overrides, event, at));
            }
        }
        if let Some(matcher) = &self.matcher {
            let view = matcher.view();
            match FieldMap::for_format(&event.format) {
                Some(map) => indicator_alerts(
                    &view,
                    map.observables(event),
                    event,
                    at,
                    &mut self.stats,
                    emit,
                ),
                None => self.stats.events_unmapped += 1,
            }
        }
        let after = self.stats.sigma_matches
            + self.stats.correlation_matches
            + self.stats.indicator_matches;
        if after > before {
            self.stats.events_matched += 1;
        }
    }
}

fn level(text: Option<&str>) -> Severity {
    text.and_then(|l| l.parse().ok())
        .unwrap_or(Severity::Medium)
}

fn sigma_alert(found: RuleMatch, overrides: &RuleState, event: &Event, at: Timestamp) -> Alert {
    let severity = overrides.level_of(&found.rule_id, level(found.level.as_deref()));
    let matched: Vec<MatchedField> = found
        .fields
        .into_iter()
        .map(|(field, value)| MatchedField { field, value })
        .collect();
    let detection = Detection::Sigma {
        rule_id: found.rule_id,
        title: found.title,
    };
    let techniques = found
        .techniques
        .iter()
        .filter_map(|t| t.parse::<AttackId>().ok())
        .collect();
    Alert::new(
        detection,
        severity,
        techniques,
        matched,
        event.reference.clone(),
        at,
    )
}

fn correlation_alert(
    fired: &CorrelationMatch,
    overrides: &RuleState,
    event: &Event,
    at: Timestamp,
) -> Alert {
    let severity = overrides.level_of(&fired.rule_id, level(fired.level.as_deref()));
    let matched: Vec<MatchedField> = fired
        .group
        .iter()
        .map(|(field, value)| MatchedField {
            field: field.clone(),
            value: value.clone(),
        })
        .collect();
    let detection = Detection::Correlation {
        rule_id: fired.rule_id.clone(),
        title: fired.title.clone(),
        group: fired.group.clone(),
    };
    Alert::new(
        detection,
        severity,
        Vec::new(),
        matched,
        event.reference.clone(),
        at,
    )
}

/// Looks every observable up and raises one alert per matching indicator (several fields of
/// one event that hit the same indicator are one alert listing them all).
pub fn indicator_alerts<'a>(
    view: &View,
    observables: impl Iterator<Item = Observable<'a>>,
    event: &Event,
    at: Timestamp,
    stats: &mut DetectorStats,
    emit: &mut dyn FnMut(Alert),
) {
    let mut hits: Vec<(Detection, Severity, Vec<MatchedField>)> = Vec::new();
    for observable in observables {
        let Some(hit) = lookup(view, &observable) else {
            continue;
        };
        if !hit.passes(Consumer::Alert) {
            stats.indicator_below_threshold += 1;
            continue;
        }
        let field = MatchedField {
            field: observable.field.to_owned(),
            value: observable.value.into_owned(),
        };
        if let Some((_, _, fields)) = hits.iter_mut().find(|(detection, _, _)| {
            matches!(detection, Detection::Indicator { id, .. } if *id == hit.id)
        }) {
            if !fields.contains(&field) {
                fields.push(field);
            }
            continue;
        }
        let detection = Detection::Indicator {
            id: hit.id,
            kind: hit.kind,
            value: hit.value.to_owned(),
            score: f64::from(hit.score),
            sources: hit.sources.iter().map(str::to_owned).collect(),
        };
        hits.push((
            detection,
            Severity::for_score(f64::from(hit.score)),
            vec![field],
        ));
    }
    for (detection, severity, matched) in hits {
        stats.indicator_matches += 1;
        emit(Alert::new(
            detection,
            severity,
            Vec::new(),
            matched,
            event.reference.clone(),
            at,
        ));
    }
}

/// The indicator covering one observable: a URL is also checked by its host, since feeds list
/// many phishing sites by domain or address only.
fn lookup<'v>(view: &'v View, observable: &Observable<'_>) -> Option<Hit<'v>> {
    let value = observable.value.as_ref();
    match observable.kind {
        ObservableKind::Ip => view.lookup(ValueHint::Ip, value),
        ObservableKind::Domain => view.lookup(ValueHint::Domain, value),
        ObservableKind::Hash => view.lookup(ValueHint::Hash, value),
        ObservableKind::Email => view.lookup(ValueHint::Email, value),
        ObservableKind::Url => view
            .lookup(ValueHint::Url, value)
            .or_else(|| url_host(value).and_then(|host| view.lookup(ValueHint::Any, host))),
    }
}

/// The host of a URL as written (`http://user@Host:8080/x` → `Host`; `[2001:db8::1]` → the
/// address), without allocating.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_hosts_are_found_without_the_rest() {
        assert_eq!(
            url_host("http://user:pw@Evil.Example:8080/a?b#c"),
            Some("Evil.Example")
        );
        assert_eq!(url_host("https://[2001:db8::1]:443/x"), Some("2001:db8::1"));
        assert_eq!(url_host("evil.example/path"), Some("evil.example"));
        assert_eq!(url_host("http:///nohost"), None);
    }
}
