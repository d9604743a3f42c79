//! Automatic grouping of alerts into campaigns: a new alert joins an open case when it shares
//! an indicator value with one of the case's alerts, or when it is the same rule on the same
//! host within a time window of one of them. Otherwise it opens a case of its own.
//!
//! Pure logic: [`place`] is given the candidate cases with their alerts; the service reads
//! them from the store.

use std::collections::BTreeSet;
use std::net::IpAddr;

use rampart_model::{Alert, Detection, Indicator};
use serde::{Deserialize, Serialize};

use crate::duration::Span;

/// How alerts are grouped. In `rampart.toml`:
///
/// ```toml
/// [cases.grouping]
/// window = "24h"          # same rule, same host: alerts this close belong together
/// host_fields = ["host.name", "host.hostname", "hostname", "Computer"]
/// indicator_fields = ["source.ip", "destination.ip", "url.full", "dns.question.name", "observable.*"]
/// max_candidates = 200    # open cases compared with each new alert, newest first
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GroupingConfig {
    /// How close in time two alerts of one rule on one host must be to belong together.
    pub window: Span,
    /// Event fields naming the host an alert happened on, in order of preference.
    pub host_fields: Vec<String>,
    /// Event fields whose values are indicators (addresses, domains, URLs, mail addresses,
    /// hashes); a trailing `*` matches any field starting with what comes before it. Private,
    /// loopback and link-local addresses are ignored: they name the organisation's own hosts.
    pub indicator_fields: Vec<String>,
    /// The most open cases (newest first) a new alert is compared with.
    pub max_candidates: u32,
}

impl Default for GroupingConfig {
    fn default() -> GroupingConfig {
        let strings = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect();
        GroupingConfig {
            window: Span::hours(24),
            host_fields: strings(&[
                "host.name",
                "host.hostname",
                "agent.hostname",
                "observer.hostname",
                "hostname",
                "Computer",
            ]),
            indicator_fields: strings(&[
                "source.ip",
                "destination.ip",
                "client.ip",
                "server.ip",
                "url.full",
                "url.original",
                "url.domain",
                "dns.question.name",
                "destination.domain",
                "email.from.address",
                "email.sender.address",
                "file.hash.*",
                "process.hash.*",
                "observable.*",
            ]),
            max_candidates: 200,
        }
    }
}

/// What grouping looks at in one alert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertTraits {
    /// Indicator values as `kind:value`, sorted.
    pub indicators: BTreeSet<String>,
    /// The rule that raised it (`sigma:ID`, `correlation:ID`, `external:SOURCE:TITLE`); an
    /// indicator match has none, its indicator is what groups it.
    pub rule: Option<String>,
    /// The host it happened on, lowercase.
    pub host: Option<String>,
}

impl GroupingConfig {
    fn is_indicator_field(&self, field: &str) -> bool {
        self.indicator_fields
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => field.starts_with(prefix),
                None => field == pattern,
            })
    }

    /// The traits of `alert`.
    pub fn traits(&self, alert: &Alert) -> AlertTraits {
        let mut traits = AlertTraits::default();
        if let Detection::Indicator { kind, value, .. } = &alert.detection {
            traits
                .indicators
                .insert(format!("{}:{value}", kind.as_str()));
        }
        for matched in &alert.matched {
            if self.is_indicator_field(&matched.field)
                && let Ok(indicator) = Indicator::guess(&matched.value)
                && !is_internal(&indicator)
            {
                traits.indicators.insert(format!(
                    "{}:{}",
                    indicator.kind().as_str(),
                    indicator.value()
                ));
            }
        }
        traits.rule = match &alert.detection {
            Detection::Sigma { rule_id, .. } => Some(format!("sigma:{rule_id}")),
            Detection::Correlation { rule_id, .. } => Some(format!("correlation:{rule_id}")),
            Detection::External { source, title, .. } => Some(format!("external:{source}:{title}")),
            Detection::Indicator { .. } => None,
        };
        let group_pairs: &[(String, String)] = match &alert.detection {
            Detection::Correlation { group, .. } => group,
            _ => &[],
        };
        traits.host = self.host_fields.iter().find_map(|field| {
            let matched = alert
                .matched
                .iter()
                .find(|matched| &matched.field == field)
                .map(|matched| matched.value.as_str());
            let grouped = group_pairs
                .iter()
                .find(|(name, _)| name == field)
                .map(|(_, value)| value.as_str());
            matched
                .or(grouped)
                .map(|host| host.trim().to_ascii_lowercase())
                .filter(|host| !host.is_empty())
        });
        traits
    }

    /// The campaign key of a case opened for `alert`: its first indicator, else its rule on
    /// its host, else the alert's own key.
    pub fn campaign_key(&self, alert: &Alert) -> String {
        let traits = self.traits(alert);
        if let Some(indicator) = traits.indicators.iter().next() {
            return format!("indicator:{indicator}");
        }
        match (traits.rule, traits.host) {
            (Some(rule), Some(host)) => format!("rule:{rule}@{host}"),
            _ => format!("alert:{}", alert.key),
        }
    }
}

/// Whether an address indicator names an internal host rather than a threat.
fn is_internal(indicator: &Indicator) -> bool {
    let Ok(address) = indicator.value().parse::<IpAddr>() else {
        return false;
    };
    match address {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00 // unique local, fc00::/7
                || (first & 0xffc0) == 0xfe80 // link local, fe80::/10
        }
    }
}

/// An open case and its alerts, as candidates for a new alert.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    pub case_id: i64,
    pub alerts: &'a [Alert],
}

/// Why an alert joins a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum GroupReason {
    /// It shares these indicator values (`kind:value`) with the case's alerts.
    SharedIndicators { indicators: Vec<String> },
    /// The same rule fired on the same host within the window.
    SameRuleOnHost { rule: String, host: String },
}

/// Where a new alert goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "placement", rename_all = "snake_case")]
pub enum Placement {
    Join {
        case_id: i64,
        reason: GroupReason,
    },
    /// No open case fits: open one with this campaign key.
    OpenNew {
        campaign: String,
    },
}

/// Whether two alerts lie within `window` of each other.
fn within(window: Span, a: &Alert, b: &Alert) -> bool {
    let window = window.as_duration();
    let reaches = |early: &Alert, late: &Alert| {
        early
            .last_seen
            .checked_add(window)
            .is_ok_and(|end| late.first_seen <= end)
    };
    reaches(a, b) && reaches(b, a)
}

/// Chooses the case for `alert` among `candidates`: the case sharing the most indicator values
/// with it; failing that, one holding an alert of the same rule on the same host within the
/// window. Ties go to the newest case (highest id).
pub fn place(alert: &Alert, candidates: &[Candidate<'_>], config: &GroupingConfig) -> Placement {
    let traits = config.traits(alert);
    let mut by_indicator: Option<(usize, i64, Vec<String>)> = None;
    let mut by_rule: Option<(i64, String, String)> = None;
    for candidate in candidates {
        let mut shared: BTreeSet<String> = BTreeSet::new();
        let mut same_rule = false;
        for other in candidate.alerts {
            let other_traits = config.traits(other);
            shared.extend(
                traits
                    .indicators
                    .intersection(&other_traits.indicators)
                    .cloned(),
            );
            same_rule |= traits.rule.is_some()
                && traits.host.is_some()
                && traits.rule == other_traits.rule
                && traits.host == other_traits.host
                && within(config.window, alert, other);
        }
        let better = |count: usize, case_id: i64, best: &Option<(usize, i64, Vec<String>)>| {
            best.as_ref()
                .is_none_or(|(best_count, best_id, _)| (count, case_id) > (*best_count, *best_id))
        };
        if !shared.is_empty() && better(shared.len(), candidate.case_id, &by_indicator) {
            by_indicator = Some((
                shared.len(),
                candidate.case_id,
                shared.into_iter().collect(),
            ));
        }
        if same_rule
            && by_rule
                .as_ref()
                .is_none_or(|(best_id, _, _)| candidate.case_id > *best_id)
            && let (Some(rule), Some(host)) = (&traits.rule, &traits.host)
        {
            by_rule = Some((candidate.case_id, rule.clone(), host.clone()));
        }
    }
    if let Some((_, case_id, indicators)) = by_indicator {
        return Placement::Join {
            case_id,
            reason: GroupReason::SharedIndicators { indicators },
        };
    }
    if let Some((case_id, rule, host)) = by_rule {
        return Placement::Join {
            case_id,
            reason: GroupReason::SameRuleOnHost { rule, host },
        };
    }
    Placement::OpenNew {
        campaign: config.campaign_key(alert),
    }
}

#[cfg(test)]
mod tests {
    use rampart_model::{EventRef, IndicatorKind, MatchedField, Severity, Timestamp};

    use super::*;

    fn at(hours: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + hours * 3_600).unwrap()
    }

    fn sigma(rule: &str, fields: &[(&str, &str)], hour: i64) -> Alert {
        let matched = fields
            .iter()
            .map(|(field, value)| MatchedField {
                field: (*field).into(),
                value: (*value).into(),
            })
            .collect();
        Alert::new(
            Detection::Sigma {
                rule_id: rule.into(),
                title: format!("rule {rule}"),
            },
            Severity::High,
            Vec::new(),
            matched,
            EventRef::line("events.jsonl", 1),
            at(hour),
        )
    }

    fn indicator_alert(value: &str, host: &str, hour: i64) -> Alert {
        Alert::new(
            Detection::Indicator {
                id: 1,
                kind: IndicatorKind::Domain,
                value: value.into(),
                score: 80.0,
                sources: vec!["feed".into()],
            },
            Severity::High,
            Vec::new(),
            vec![
                MatchedField {
                    field: "dns.question.name".into(),
                    value: format!("www.{value}"),
                },
                MatchedField {
                    field: "host.name".into(),
                    value: host.into(),
                },
            ],
            EventRef::line("dns.jsonl", 1),
            at(hour),
        )
    }

    #[test]
    fn traits_take_indicators_rule_and_host_from_configured_fields() {
        let config = GroupingConfig::default();
        let alert = sigma(
            "r1",
            &[
                ("destination.ip", "203.0.113.9"),
                ("source.ip", "10.1.2.3"),
                ("process.command_line", "curl 198.51.100.1"),
                ("observable.url", "hxxp://evil[.]example/x"),
                ("host.name", " WS-7 "),
            ],
            0,
        );
        let traits = config.traits(&alert);
        let indicators: Vec<&str> = traits.indicators.iter().map(String::as_str).collect();
        assert_eq!(
            indicators,
            ["ipv4:203.0.113.9", "url:http://evil.example/x"]
        );
        assert_eq!(traits.rule.as_deref(), Some("sigma:r1"));
        assert_eq!(traits.host.as_deref(), Some("ws-7"));
        assert_eq!(config.campaign_key(&alert), "indicator:ipv4:203.0.113.9");
        let bare = sigma("r2", &[("hostname", "db-1")], 0);
        assert_eq!(config.campaign_key(&bare), "rule:sigma:r2@db-1");
        let nothing = sigma("r3", &[], 0);
        assert_eq!(
            config.campaign_key(&nothing),
            format!("alert:{}", nothing.key)
        );
    }

    #[test]
    fn a_shared_indicator_joins_the_case_sharing_most() {
        let config = GroupingConfig::default();
        let first = [indicator_alert("evil.example", "ws-1", 0)];
        let second = [
            indicator_alert("evil.example", "ws-2", 1),
            sigma("r9", &[("url.domain", "other.example")], 1),
        ];
        let unrelated = [sigma("r1", &[("host.name", "ws-9")], 0)];
        let candidates = [
            Candidate {
                case_id: 1,
                alerts: &first,
            },
            Candidate {
                case_id: 2,
                alerts: &second,
            },
            Candidate {
                case_id: 3,
                alerts: &unrelated,
            },
        ];
        // Days later and on another host: indicators group regardless of time.
        let new = sigma(
            "r5",
            &[
                ("url.domain", "other.example"),
                ("destination.domain", "evil.example"),
            ],
            200,
        );
        assert_eq!(
            place(&new, &candidates, &config),
            Placement::Join {
                case_id: 2,
                reason: GroupReason::SharedIndicators {
                    indicators: vec!["domain:evil.example".into(), "domain:other.example".into()]
                }
            }
        );
        // One shared value each: the newest case wins.
        let new = indicator_alert("evil.example", "ws-3", 5);
        assert!(matches!(
            place(&new, &candidates, &config),
            Placement::Join { case_id: 2, .. }
        ));
    }

    #[test]
    fn same_rule_on_same_host_joins_only_within_the_window() {
        let config = GroupingConfig::default();
        let earlier = [sigma("r1", &[("host.name", "WS-1")], 0)];
        let candidates = [Candidate {
            case_id: 4,
            alerts: &earlier,
        }];
        let close = sigma("r1", &[("host.name", "ws-1"), ("user.name", "bob")], 23);
        assert_eq!(
            place(&close, &candidates, &config),
            Placement::Join {
                case_id: 4,
                reason: GroupReason::SameRuleOnHost {
                    rule: "sigma:r1".into(),
                    host: "ws-1".into()
                }
            }
        );
        let late = sigma("r1", &[("host.name", "ws-1")], 25);
        assert_eq!(
            place(&late, &candidates, &config),
            Placement::OpenNew {
                campaign: "rule:sigma:r1@ws-1".into()
            }
        );
        let other_host = sigma("r1", &[("host.name", "ws-2")], 1);
        assert!(matches!(
            place(&other_host, &candidates, &config),
            Placement::OpenNew { .. }
        ));
        let other_rule = sigma("r2", &[("host.name", "ws-1")], 1);
        assert!(matches!(
            place(&other_rule, &candidates, &config),
            Placement::OpenNew { .. }
        ));
        // A wider window takes the late one in; an alert before the case's also counts.
        let wide = GroupingConfig {
            window: Span::hours(48),
            ..GroupingConfig::default()
        };
        assert!(matches!(
            place(&late, &candidates, &wide),
            Placement::Join { .. }
        ));
        let before = sigma("r1", &[("host.name", "ws-1")], -20);
        assert!(matches!(
            place(&before, &candidates, &config),
            Placement::Join { .. }
        ));
    }

    #[test]
    fn internal_addresses_and_unlisted_fields_do_not_group() {
        let config = GroupingConfig::default();
        let existing = [sigma(
            "r1",
            &[("source.ip", "192.168.1.5"), ("user.name", "eve@x.example")],
            0,
        )];
        let candidates = [Candidate {
            case_id: 1,
            alerts: &existing,
        }];
        let new = sigma(
            "r2",
            &[("source.ip", "192.168.1.5"), ("user.name", "eve@x.example")],
            0,
        );
        assert!(matches!(
            place(&new, &candidates, &config),
            Placement::OpenNew { .. }
        ));
        let v6 = sigma(
            "r2",
            &[("source.ip", "fe80::1"), ("destination.ip", "fd00::2")],
            0,
        );
        assert!(config.traits(&v6).indicators.is_empty());
        assert!(matches!(
            place(&new, &[], &config),
            Placement::OpenNew { .. }
        ));
    }

    #[test]
    fn config_reads_from_toml() {
        let config: GroupingConfig =
            toml::from_str("window = \"2h\"\nhost_fields = [\"device\"]\n").unwrap();
        assert_eq!(config.window, Span::hours(2));
        assert_eq!(config.host_fields, ["device"]);
        assert_eq!(config.max_candidates, 200);
        assert!(toml::from_str::<GroupingConfig>("window = \"soon\"\n").is_err());
    }
}
