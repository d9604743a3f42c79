//! Which subjects start which playbooks: a trigger's filters tested against a run's facts.

use rampart_model::Severity;
use serde_json::Value;

use super::definition::{AlertTrigger, IndicatorTrigger, ReportTrigger, Trigger};
use super::facts::Facts;

impl Trigger {
    /// Whether `facts` (of any subject) start this trigger. A schedule never starts from a
    /// subject: the clock starts it.
    pub fn fires_on(&self, facts: &Facts) -> bool {
        match self {
            Trigger::Alert(trigger) => {
                facts.first_value("alert").is_some() && alert_fires(trigger, facts)
            }
            Trigger::Indicator(trigger) => {
                facts.first_value("indicator").is_some() && indicator_fires(trigger, facts)
            }
            Trigger::Report(trigger) => {
                facts.first_value("report").is_some() && report_fires(trigger, facts)
            }
            Trigger::Schedule(_) => false,
        }
    }
}

fn text<'a>(facts: &'a Facts, path: &str) -> Option<&'a str> {
    facts.first_value(path).and_then(Value::as_str)
}

fn number(facts: &Facts, path: &str) -> Option<f64> {
    facts.first_value(path).and_then(Value::as_f64)
}

fn any_text(facts: &Facts, path: &str, wanted: &[String]) -> bool {
    wanted.is_empty()
        || facts
            .values(path)
            .into_iter()
            .filter_map(Value::as_str)
            .any(|value| wanted.iter().any(|want| want.eq_ignore_ascii_case(value)))
}

fn alert_fires(trigger: &AlertTrigger, facts: &Facts) -> bool {
    let rule_matches = trigger.rules.is_empty()
        || trigger.rules.iter().any(|rule| {
            [text(facts, "alert.rule_id"), text(facts, "alert.rule")]
                .into_iter()
                .flatten()
                .any(|value| value.eq_ignore_ascii_case(rule))
        });
    let technique_matches = trigger.techniques.is_empty()
        || facts
            .values("alert.techniques")
            .into_iter()
            .filter_map(Value::as_str)
            .any(|id| {
                trigger.techniques.iter().any(|wanted| {
                    id.eq_ignore_ascii_case(wanted)
                        || id
                            .split_once('.')
                            .is_some_and(|(parent, _)| parent.eq_ignore_ascii_case(wanted))
                })
            });
    let kind_matches = trigger.indicator_kinds.is_empty()
        || text(facts, "alert.indicator.kind").is_some_and(|kind| {
            trigger
                .indicator_kinds
                .iter()
                .any(|wanted| wanted.as_str() == kind)
        });
    let severity_matches = trigger.min_severity.is_none_or(|minimum| {
        text(facts, "alert.severity")
            .and_then(|severity| severity.parse::<Severity>().ok())
            .is_some_and(|severity| severity >= minimum)
    });
    let score_matches = trigger.min_score.is_none_or(|minimum| {
        number(facts, "alert.indicator.score").is_some_and(|score| score >= minimum)
    });
    rule_matches && technique_matches && kind_matches && severity_matches && score_matches
}

fn indicator_fires(trigger: &IndicatorTrigger, facts: &Facts) -> bool {
    let kind_matches = trigger.kinds.is_empty()
        || text(facts, "indicator.kind")
            .is_some_and(|kind| trigger.kinds.iter().any(|wanted| wanted.as_str() == kind));
    let score_matches = trigger.min_score.is_none_or(|minimum| {
        number(facts, "indicator.score").is_some_and(|score| score >= minimum)
    });
    let suppressed = facts
        .first_value("indicator.suppressed")
        .is_some_and(|value| !value.is_null());
    kind_matches
        && score_matches
        && !suppressed
        && any_text(facts, "indicator.sources", &trigger.sources)
        && any_text(facts, "indicator.labels", &trigger.labels)
}

fn report_fires(trigger: &ReportTrigger, facts: &Facts) -> bool {
    any_text(facts, "report.verdict", &trigger.verdicts)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn trigger(yaml: &str) -> Trigger {
        super::super::from_yaml(yaml).expect("trigger parses")
    }

    #[test]
    fn alert_triggers_filter_rule_technique_severity_and_score() {
        let sigma = Facts::new(json!({"alert": {
            "rule": "SSH brute force", "rule_id": "0a1b", "severity": "high",
            "techniques": ["T1110.001"], "indicator": null,
        }}));
        let ioc = Facts::new(json!({"alert": {
            "rule": "ipv4 203.0.113.9", "severity": "medium", "techniques": [],
            "indicator": {"kind": "ipv4", "value": "203.0.113.9", "score": 75.0},
        }}));
        let cases = [
            ("alert: {techniques: [T1110]}", true, false),
            ("alert: {rules: [ssh brute force]}", true, false),
            (
                "alert: {rules: ['0A1B'], min_severity: critical}",
                false,
                false,
            ),
            ("alert: {min_severity: medium}", true, true),
            (
                "alert: {indicator_kinds: [ipv4], min_score: 70}",
                false,
                true,
            ),
            (
                "alert: {indicator_kinds: [ipv4], min_score: 80}",
                false,
                false,
            ),
            ("indicator: {}", false, false),
        ];
        for (yaml, on_sigma, on_ioc) in cases {
            let trigger = trigger(yaml);
            assert_eq!(
                trigger.fires_on(&sigma),
                on_sigma,
                "{yaml} on the Sigma alert"
            );
            assert_eq!(
                trigger.fires_on(&ioc),
                on_ioc,
                "{yaml} on the indicator alert"
            );
        }
    }

    #[test]
    fn indicator_triggers_skip_suppressed_values() {
        let facts = |suppressed: Value| {
            Facts::new(json!({"indicator": {
                "kind": "url", "score": 64.0, "sources": ["phishtank"], "labels": ["Phishing"],
                "suppressed": suppressed,
            }}))
        };
        let trigger =
            trigger("indicator: {kinds: [url, domain], min_score: 60, labels: [phishing]}");
        assert!(trigger.fires_on(&facts(Value::Null)));
        assert!(!trigger.fires_on(&facts(json!("warninglist: top sites"))));
        assert!(!self::trigger("indicator: {sources: [urlhaus]}").fires_on(&facts(Value::Null)));
        assert!(!self::trigger("indicator: {min_score: 65}").fires_on(&facts(Value::Null)));
        assert!(!self::trigger("schedule: {every: 1h}").fires_on(&facts(Value::Null)));
    }
}
