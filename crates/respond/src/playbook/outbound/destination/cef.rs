//! A run's subject as an ArcSight CEF record inside an RFC 5424 syslog line:
//!
//! ```text
//! <132>1 2026-11-05T10:00:00.123Z soc-1 rampart - alert - CEF:0|Rampart|Rampart|0.1.0|sigma-4711|Brute force|8|rt=… cat=alert …
//! ```
//!
//! CEF header fields escape `\` and `|`; extension values escape `\` and `=`, and write a line
//! break as `\n` — so an attacker's value (an indicator, a matched user name) can neither add a
//! header field nor an extension key, nor end the line. Which CEF keys carry what:
//!
//! | subject | signature id | name | severity | extension |
//! |---|---|---|---|---|
//! | alert | `rule_id` (else `rule`) | `rule` | informational 1, low 3, medium 5, high 8, critical 10 | `externalId`, `cnt`, `shost`, `src`/`dst` (matched `source.ip`/`destination.ip`), `suser` (matched `user.name`), `cs1` techniques, `cs2` indicator |
//! | indicator | `indicator:KIND` | `Indicator VALUE` | score ÷ 10 | `externalId`, `cs2` value, `cs3` kind, `cfp1` score, `cs4` threats, `cs5` sources, and `dst`, `dhost`, `request`, `duser` or `fileHash` by kind |
//! | report | `report:VERDICT` | `Phishing report SUBJECT` | phishing 8, suspicious 5, else 2 | `externalId`, `msg` |
//! | schedule | `schedule` | `Scheduled run NAME` | 3 | |
//!
//! Every record has `rt` (milliseconds since the epoch) and `cat` (the subject), and `cs6` the
//! case the run opened, if any.

use std::net::IpAddr;

use jiff::Timestamp;
use serde_json::Value;

use crate::playbook::facts::Facts;

/// One CEF record, before it is written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CefEvent {
    /// `alert`, `indicator`, `report`, `schedule` or `run`: the syslog MSGID.
    pub subject: &'static str,
    pub signature_id: String,
    pub name: String,
    /// 0 to 10.
    pub severity: u8,
    pub extension: Vec<(&'static str, String)>,
}

impl CefEvent {
    /// The record for a run's facts at `now`.
    pub fn of(facts: &Facts, now: Timestamp) -> CefEvent {
        let text = |path: &str| facts.first_value(path).and_then(display);
        let subject = ["alert", "indicator", "report", "schedule"]
            .into_iter()
            .find(|root| facts.first_value(root).is_some())
            .unwrap_or("run");
        let mut extension = vec![
            ("rt", now.as_millisecond().to_string()),
            ("cat", subject.to_owned()),
        ];
        let mut push = |key: &'static str, value: Option<String>| {
            if let Some(value) = value.filter(|value| !value.is_empty()) {
                extension.push((key, value));
            }
        };
        let (signature_id, name, severity) = match subject {
            "alert" => {
                let rule = text("alert.rule").unwrap_or_else(|| "alert".to_owned());
                push("externalId", text("alert.id"));
                push("cnt", text("alert.count"));
                push("shost", text("alert.host"));
                push("src", first_address(facts, "alert.matched.source.ip"));
                push("dst", first_address(facts, "alert.matched.destination.ip"));
                push(
                    "suser",
                    facts
                        .values("alert.matched.user.name")
                        .first()
                        .and_then(|value| display(value)),
                );
                push("cs1Label", Some("techniques".into()));
                push("cs1", text("alert.techniques"));
                if let (Some(kind), Some(value)) =
                    (text("alert.indicator.kind"), text("alert.indicator.value"))
                {
                    push("cs2Label", Some("indicator".into()));
                    push("cs2", Some(format!("{kind}:{value}")));
                }
                let severity = match text("alert.severity").as_deref() {
                    Some("critical") => 10,
                    Some("high") => 8,
                    Some("medium") => 5,
                    Some("low") => 3,
                    _ => 1,
                };
                (
                    text("alert.rule_id").unwrap_or_else(|| rule.clone()),
                    rule,
                    severity,
                )
            }
            "indicator" => {
                let kind = text("indicator.kind").unwrap_or_default();
                let value = text("indicator.value").unwrap_or_default();
                push("externalId", text("indicator.id"));
                push("cs2Label", Some("indicator".into()));
                push("cs2", Some(value.clone()));
                push("cs3Label", Some("kind".into()));
                push("cs3", Some(kind.clone()));
                push("cfp1Label", Some("score".into()));
                push("cfp1", text("indicator.score"));
                push("cs4Label", Some("threats".into()));
                push("cs4", text("indicator.threats"));
                push("cs5Label", Some("sources".into()));
                push("cs5", text("indicator.sources"));
                let key = match kind.as_str() {
                    "ipv4" | "ipv6" => Some("dst"),
                    "domain" => Some("dhost"),
                    "url" => Some("request"),
                    "email" => Some("duser"),
                    "md5" | "sha1" | "sha256" | "sha512" => Some("fileHash"),
                    _ => None,
                };
                if let Some(key) = key {
                    push(key, Some(value.clone()));
                }
                let score = facts
                    .first_value("indicator.score")
                    .and_then(Value::as_f64)
                    .unwrap_or(0.0);
                // Clamped to 0..=10 first, so the cast cannot truncate.
                let severity = (score / 10.0).round().clamp(0.0, 10.0) as u8;
                (
                    format!("indicator:{kind}"),
                    format!("Indicator {value}"),
                    severity,
                )
            }
            "report" => {
                let verdict = text("report.verdict").unwrap_or_else(|| "unknown".into());
                push("externalId", text("report.id"));
                push("msg", text("report.subject"));
                let severity = match verdict.as_str() {
                    "phishing" => 8,
                    "suspicious" => 5,
                    _ => 2,
                };
                let subject_line = text("report.subject").unwrap_or_default();
                (
                    format!("report:{verdict}"),
                    format!("Phishing report {subject_line}"),
                    severity,
                )
            }
            "schedule" => (
                "schedule".to_owned(),
                format!(
                    "Scheduled run {}",
                    text("schedule.name").unwrap_or_default()
                ),
                3,
            ),
            _ => ("run".to_owned(), "Playbook run".to_owned(), 3),
        };
        push("cs6Label", text("case.id").map(|_| "case".to_owned()));
        push("cs6", text("case.id"));
        CefEvent {
            subject,
            signature_id,
            name: name.trim().to_owned(),
            severity,
            extension,
        }
    }

    /// `CEF:0|Rampart|Rampart|VERSION|id|name|severity|key=value …`.
    pub fn to_cef(&self) -> String {
        let mut line = format!(
            "CEF:0|Rampart|Rampart|{}|{}|{}|{}|",
            env!("CARGO_PKG_VERSION"),
            escape_header(&self.signature_id),
            escape_header(&self.name),
            self.severity
        );
        let pairs: Vec<String> = self
            .extension
            .iter()
            .map(|(key, value)| format!("{key}={}", escape_extension(value)))
            .collect();
        line.push_str(&pairs.join(" "));
        line
    }

    /// The syslog severity for the CEF severity: 9–10 critical, 7–8 error, 4–6 warning, 1–3
    /// notice, 0 informational.
    pub fn syslog_severity(&self) -> u8 {
        match self.severity {
            9.. => 2,
            7..=8 => 3,
            4..=6 => 4,
            1..=3 => 5,
            0 => 6,
        }
    }
}

/// An RFC 5424 line: `<PRI>1 TIMESTAMP HOSTNAME rampart - MSGID - MSG` (no structured data;
/// the CEF record is the message).
pub(crate) fn syslog_line(
    facility: u8,
    event: &CefEvent,
    hostname: &str,
    now: Timestamp,
) -> String {
    let priority = u16::from(facility) * 8 + u16::from(event.syslog_severity());
    let timestamp = now.strftime("%Y-%m-%dT%H:%M:%S%.3fZ");
    format!(
        "<{priority}>1 {timestamp} {} rampart - {} - {}",
        header_token(hostname),
        event.subject,
        event.to_cef()
    )
}

/// A syslog header field: printable ASCII without spaces, 1 to 255 characters, else `-`.
fn header_token(text: &str) -> String {
    let token: String = text
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect();
    if token.is_empty() {
        "-".to_owned()
    } else {
        token
    }
}

/// A fact as text: strings bare, lists joined by `,`, numbers as written; `None` for nothing.
fn display(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(display).collect();
            (!parts.is_empty()).then(|| parts.join(","))
        }
        other => Some(other.to_string()),
    }
}

/// The first value at `path` that is an IP address (CEF's `src`/`dst` hold addresses only).
fn first_address(facts: &Facts, path: &str) -> Option<String> {
    facts
        .values(path)
        .into_iter()
        .filter_map(Value::as_str)
        .find_map(|text| text.parse::<IpAddr>().ok())
        .map(|address| address.to_string())
}

/// A CEF header field: `\` and `|` escaped; a line break cannot be escaped there, so every
/// control character becomes a space.
pub(crate) fn escape_header(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A CEF extension value: `\` and `=` escaped, line breaks as `\n` and `\r`, other control
/// characters as spaces.
pub(crate) fn escape_extension(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '=' => out.push_str("\\="),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn header_and_extension_escaping_follow_cef() {
        assert_eq!(escape_header(r"a|b\c=d"), r"a\|b\\c=d");
        assert_eq!(escape_header("two\nlines"), "two lines");
        assert_eq!(escape_extension("a|b\\c=d\r\ne"), "a|b\\\\c\\=d\\r\\ne");
    }

    #[test]
    fn an_alert_becomes_one_line() {
        let facts = Facts::new(json!({
            "alert": {
                "id": 42, "rule": "Brute | force", "rule_id": "sigma-4711", "severity": "high",
                "count": 3, "host": "web-1", "techniques": ["T1110", "T1110.001"],
                "matched": { "source.ip": ["not an ip", "203.0.113.7"], "user.name": ["bob=admin"] },
                "indicator": null,
            },
            "case": { "id": 9 },
        }));
        let now = Timestamp::from_millisecond(1_793_000_000_123).unwrap();
        let event = CefEvent::of(&facts, now);
        let line = syslog_line(16, &event, "soc 1", now);
        assert_eq!(
            line,
            format!(
                "<131>1 2026-10-26T07:33:20.123Z soc1 rampart - alert - \
                 CEF:0|Rampart|Rampart|{}|sigma-4711|Brute \\| force|8|\
                 rt=1793000000123 cat=alert externalId=42 cnt=3 shost=web-1 src=203.0.113.7 \
                 suser=bob\\=admin cs1Label=techniques cs1=T1110,T1110.001 cs6Label=case cs6=9",
                env!("CARGO_PKG_VERSION")
            )
        );
    }

    #[test]
    fn an_indicator_maps_its_value_by_kind_and_severity_by_score() {
        let facts = Facts::new(json!({
            "indicator": { "id": 7, "kind": "url", "value": "http://evil.example/a=b\\c",
                           "score": 87.5, "threats": ["FIN7"], "sources": ["phishtank", "urlhaus"] },
        }));
        let event = CefEvent::of(&facts, Timestamp::UNIX_EPOCH);
        assert_eq!(event.signature_id, "indicator:url");
        assert_eq!(event.severity, 9);
        assert_eq!(event.syslog_severity(), 2);
        let cef = event.to_cef();
        assert!(
            cef.ends_with(
                "|indicator:url|Indicator http://evil.example/a=b\\\\c|9|rt=0 cat=indicator externalId=7 \
                 cs2Label=indicator cs2=http://evil.example/a\\=b\\\\c cs3Label=kind cs3=url \
                 cfp1Label=score cfp1=87.5 cs4Label=threats cs4=FIN7 cs5Label=sources \
                 cs5=phishtank,urlhaus request=http://evil.example/a\\=b\\\\c"
            ),
            "{cef}"
        );
    }
}
