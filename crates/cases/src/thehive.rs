//! TheHive-compatible alert import: the body a SIEM, EDR or mail gateway already sends to
//! TheHive 4 or 5 (`POST /api/alert`), turned into a Rampart [`Alert`] and the observables a
//! case should track.
//!
//! ```
//! # use rampart_cases::thehive::ImportedAlert;
//! let body = br#"{"type": "edr", "source": "edr-1", "sourceRef": "42", "title": "Beacon",
//!                 "severity": 3, "observables": [{"dataType": "domain", "data": "evil.example"}]}"#;
//! let imported = ImportedAlert::from_json(body, jiff::Timestamp::UNIX_EPOCH).unwrap();
//! let alert = imported.to_alert();
//! assert_eq!(alert.severity, rampart_model::Severity::High);
//! assert_eq!(alert.matched[0].field, "observable.domain");
//! ```
//!
//! Mapping: `severity` 1–4 is low, medium, high, critical (default 2); `tlp` 0–4 is clear,
//! green, amber, red, amber+strict and `pap` 0–3 clear, green, amber, red (default 2, amber);
//! `date` is epoch milliseconds (default: the time of import). Observables (TheHive 5) and
//! artifacts (TheHive 4) of data type `ip`, `domain`/`fqdn`/`hostname`, `url`, `mail`/`email`
//! and `hash` become indicators; other data types (`filename`, `registry`, `user-agent`,
//! `other`…) are kept as [`OtherObservable`]s. Fields Rampart has no use for (`externalLink`,
//! `customFields`, `caseTemplate`…) are ignored.

use rampart_model::{
    Alert, AttackId, Detection, EventRef, Indicator, IndicatorKind, Locator, MatchedField, Pap,
    Severity, Timestamp, Tlp,
};
use rampart_store::{MAX_TITLE_CHARS, NewObservable};
use serde::Deserialize;

/// Most observables and artifacts one alert may carry.
pub const MAX_OBSERVABLES: usize = 1000;
/// Most tags one alert or observable may carry, and their longest length in characters.
const MAX_TAGS: usize = 100;
const MAX_TAG_CHARS: usize = 128;
/// Longest `type`, `source` and `sourceRef`, in characters.
const MAX_NAME_CHARS: usize = 256;
/// Longest value of an observable Rampart does not interpret, kept as matched text.
const MAX_OTHER_CHARS: usize = 1024;

/// A body that is not a usable alert, with the path of the field at fault
/// (`observables[2].data`; `(body)` when it is not a JSON object at all).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid TheHive alert at {path}: {reason}")]
pub struct TheHiveError {
    pub path: String,
    pub reason: String,
}

fn invalid(path: impl Into<String>, reason: impl Into<String>) -> TheHiveError {
    TheHiveError {
        path: path.into(),
        reason: reason.into(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(rename = "type")]
    kind: String,
    source: String,
    source_ref: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    severity: Option<i64>,
    date: Option<i64>,
    #[serde(default)]
    tags: Vec<String>,
    tlp: Option<i64>,
    pap: Option<i64>,
    #[serde(default)]
    observables: Vec<BodyObservable>,
    #[serde(default)]
    artifacts: Vec<BodyObservable>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BodyObservable {
    data_type: String,
    data: Option<String>,
    message: Option<String>,
    tlp: Option<i64>,
    #[serde(default)]
    ioc: bool,
    #[serde(default)]
    sighted: bool,
    #[serde(default)]
    tags: Vec<String>,
}

/// An observable of a data type Rampart does not treat as an indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherObservable {
    /// TheHive's data type, lowercase (`filename`, `registry`…).
    pub data_type: String,
    /// Its value, if it had one (a `file` observable carries an attachment instead).
    pub data: Option<String>,
    pub message: Option<String>,
}

/// An alert imported from a TheHive-compatible body.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedAlert {
    /// TheHive's `type` (`external`, `siem`, `edr`…).
    pub kind: String,
    pub source: String,
    pub source_ref: String,
    /// One line of at most [`MAX_TITLE_CHARS`] characters.
    pub title: String,
    /// Markdown, from the sender.
    pub description: String,
    pub severity: Severity,
    pub date: Timestamp,
    pub tags: Vec<String>,
    pub tlp: Tlp,
    pub pap: Pap,
    /// Indicator observables, deduplicated by kind and value.
    pub observables: Vec<NewObservable>,
    pub other_observables: Vec<OtherObservable>,
}

/// A name field: trimmed, non-empty, short and one line.
fn name_field(path: &str, text: &str) -> Result<String, TheHiveError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(invalid(path, "empty"));
    }
    if trimmed.chars().count() > MAX_NAME_CHARS || trimmed.chars().any(char::is_control) {
        return Err(invalid(
            path,
            format!("at most {MAX_NAME_CHARS} characters on one line"),
        ));
    }
    Ok(trimmed.to_owned())
}

fn tags_field(path: &str, tags: &[String]) -> Result<Vec<String>, TheHiveError> {
    if tags.len() > MAX_TAGS {
        return Err(invalid(path, format!("more than {MAX_TAGS} tags")));
    }
    let mut kept: Vec<String> = Vec::with_capacity(tags.len());
    for (index, tag) in tags.iter().enumerate() {
        let tag = tag.trim();
        if tag.chars().count() > MAX_TAG_CHARS || tag.chars().any(char::is_control) {
            return Err(invalid(
                format!("{path}[{index}]"),
                format!("a tag has at most {MAX_TAG_CHARS} characters on one line"),
            ));
        }
        if !tag.is_empty() && !kept.iter().any(|seen| seen == tag) {
            kept.push(tag.to_owned());
        }
    }
    Ok(kept)
}

fn severity_field(level: Option<i64>) -> Result<Severity, TheHiveError> {
    match level.unwrap_or(2) {
        1 => Ok(Severity::Low),
        2 => Ok(Severity::Medium),
        3 => Ok(Severity::High),
        4 => Ok(Severity::Critical),
        other => Err(invalid(
            "severity",
            format!("{other} is not 1 (low) to 4 (critical)"),
        )),
    }
}

fn tlp_field(path: &str, level: Option<i64>, default: Tlp) -> Result<Tlp, TheHiveError> {
    match level {
        None => Ok(default),
        Some(0) => Ok(Tlp::Clear),
        Some(1) => Ok(Tlp::Green),
        Some(2) => Ok(Tlp::Amber),
        Some(3) => Ok(Tlp::Red),
        Some(4) => Ok(Tlp::AmberStrict),
        Some(other) => Err(invalid(path, format!("{other} is not a TLP level 0 to 4"))),
    }
}

fn pap_field(level: Option<i64>) -> Result<Pap, TheHiveError> {
    match level.unwrap_or(2) {
        0 => Ok(Pap::Clear),
        1 => Ok(Pap::Green),
        2 => Ok(Pap::Amber),
        3 => Ok(Pap::Red),
        other => Err(invalid("pap", format!("{other} is not a PAP level 0 to 3"))),
    }
}

/// The indicator of an observable of an indicator data type; `None` for other data types.
fn observable_indicator(
    path: &str,
    data_type: &str,
    data: Option<&str>,
) -> Result<Option<Indicator>, TheHiveError> {
    let kinds: &[IndicatorKind] = match data_type {
        "ip" => &[
            IndicatorKind::Ipv4,
            IndicatorKind::Ipv6,
            IndicatorKind::Cidr,
        ],
        "domain" | "fqdn" | "hostname" => &[IndicatorKind::Domain],
        "url" => &[IndicatorKind::Url],
        "mail" | "email" => &[IndicatorKind::Email],
        "hash" => &[],
        _ => return Ok(None),
    };
    let data_path = format!("{path}.data");
    let Some(data) = data.map(str::trim).filter(|data| !data.is_empty()) else {
        return Err(invalid(
            data_path,
            format!("a {data_type} observable needs its data"),
        ));
    };
    if data_type == "hash" {
        let kind = IndicatorKind::hash_for_length(data.len())
            .filter(|_| data.bytes().all(|byte| byte.is_ascii_hexdigit()))
            .ok_or_else(|| invalid(&data_path, "not a hex MD5, SHA-1, SHA-256 or SHA-512 hash"))?;
        return Indicator::parse(kind, data)
            .map(Some)
            .map_err(|err| invalid(&data_path, err.reason()));
    }
    let mut last_reason = String::new();
    for kind in kinds {
        match Indicator::parse(*kind, data) {
            Ok(indicator) => return Ok(Some(indicator)),
            Err(err) => last_reason = err.reason().to_owned(),
        }
    }
    Err(invalid(
        data_path,
        format!("not a valid {data_type}: {last_reason}"),
    ))
}

/// A data type as a field-name part: lowercase letters, digits, `-` and `_`.
fn data_type_name(data_type: &str) -> String {
    let name: String = data_type
        .trim()
        .to_ascii_lowercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(40)
        .collect();
    if name.is_empty() {
        "other".to_owned()
    } else {
        name
    }
}

impl ImportedAlert {
    /// Reads and checks a TheHive alert body; `now` is its date when it names none.
    pub fn from_json(body: &[u8], now: Timestamp) -> Result<ImportedAlert, TheHiveError> {
        // A struct would also read from an array; an alert is an object.
        let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
        if first != Some(&b'{') {
            return Err(invalid("(body)", "expected a JSON object"));
        }
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        let parsed: Body = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
            let path = err.path().to_string();
            let path = if path == "." {
                "(body)".to_owned()
            } else {
                path
            };
            invalid(path, err.into_inner().to_string())
        })?;
        deserializer
            .end()
            .map_err(|err| invalid("(body)", err.to_string()))?;
        ImportedAlert::check(parsed, now)
    }

    fn check(body: Body, now: Timestamp) -> Result<ImportedAlert, TheHiveError> {
        let title: String = body
            .title
            .trim()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if title.trim().is_empty() {
            return Err(invalid("title", "empty"));
        }
        let title: String = title.chars().take(MAX_TITLE_CHARS).collect();
        let date = match body.date {
            None => now,
            Some(millis) => Timestamp::from_millisecond(millis)
                .map_err(|err| invalid("date", format!("{millis} ms: {err}")))?,
        };
        let tlp = tlp_field("tlp", body.tlp, Tlp::Amber)?;
        let count = body.observables.len() + body.artifacts.len();
        if count > MAX_OBSERVABLES {
            return Err(invalid(
                "observables",
                format!("{count} observables and artifacts, more than {MAX_OBSERVABLES}"),
            ));
        }
        let mut observables: Vec<NewObservable> = Vec::new();
        let mut other_observables = Vec::new();
        let listed = body
            .observables
            .iter()
            .enumerate()
            .map(|(index, item)| (format!("observables[{index}]"), item))
            .chain(
                body.artifacts
                    .iter()
                    .enumerate()
                    .map(|(index, item)| (format!("artifacts[{index}]"), item)),
            );
        for (path, item) in listed {
            let data_type = data_type_name(&item.data_type);
            let message = item.message.clone().filter(|text| !text.trim().is_empty());
            let Some(indicator) = observable_indicator(&path, &data_type, item.data.as_deref())?
            else {
                other_observables.push(OtherObservable {
                    data_type,
                    data: item.data.clone(),
                    message,
                });
                continue;
            };
            let observable = NewObservable {
                ioc: item.ioc,
                sighted: item.sighted,
                tlp: tlp_field(&format!("{path}.tlp"), item.tlp, tlp)?,
                tags: tags_field(&format!("{path}.tags"), &item.tags)?,
                message,
                indicator,
            };
            match observables
                .iter_mut()
                .find(|seen| seen.indicator == observable.indicator)
            {
                Some(seen) => {
                    seen.ioc |= observable.ioc;
                    seen.sighted |= observable.sighted;
                    seen.tlp = seen.tlp.max(observable.tlp);
                }
                None => observables.push(observable),
            }
        }
        Ok(ImportedAlert {
            kind: name_field("type", &body.kind)?,
            source: name_field("source", &body.source)?,
            source_ref: name_field("sourceRef", &body.source_ref)?,
            title,
            description: body.description.unwrap_or_default(),
            severity: severity_field(body.severity)?,
            date,
            tags: tags_field("tags", &body.tags)?,
            tlp,
            pap: pap_field(body.pap)?,
            observables,
            other_observables,
        })
    }

    /// ATT&CK techniques named in the tags (`attack.t1566`, `mitre:T1059.001`).
    pub fn techniques(&self) -> Vec<AttackId> {
        let mut techniques: Vec<AttackId> = Vec::new();
        for tag in &self.tags {
            if let Some(id) = AttackId::find_in(tag)
                && !techniques.contains(&id)
            {
                techniques.push(id);
            }
        }
        techniques
    }

    /// The Rampart alert: an [`Detection::External`] keyed by source and reference (so a repeat
    /// of the same alert updates its row), seen at `date`, with the observables as matched
    /// fields (`observable.KIND` for indicators, `thehive.DATATYPE` for the others). Its event
    /// reference is `thehive:SOURCE/SOURCEREF`, message 1.
    pub fn to_alert(&self) -> Alert {
        let detection = Detection::External {
            source: self.source.clone(),
            source_ref: self.source_ref.clone(),
            title: self.title.clone(),
        };
        let mut matched: Vec<MatchedField> = self
            .observables
            .iter()
            .map(|observable| MatchedField {
                field: format!("observable.{}", observable.indicator.kind()),
                value: observable.indicator.value().to_owned(),
            })
            .collect();
        matched.extend(self.other_observables.iter().filter_map(|other| {
            let data = other.data.as_deref()?.trim();
            (!data.is_empty()).then(|| MatchedField {
                field: format!("thehive.{}", other.data_type),
                value: data.chars().take(MAX_OTHER_CHARS).collect(),
            })
        }));
        Alert {
            key: Alert::key_for(&detection, &[]),
            detection,
            severity: self.severity,
            techniques: self.techniques(),
            matched,
            event: EventRef {
                source: format!("thehive:{}/{}", self.source, self.source_ref),
                locator: Locator::Message(1),
            },
            first_seen: self.date,
            last_seen: self.date,
            count: 1,
            retro: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(body: &str) -> Result<ImportedAlert, TheHiveError> {
        ImportedAlert::from_json(body.as_bytes(), Timestamp::from_second(1_000).unwrap())
    }

    fn error_at(body: &str) -> (String, String) {
        let error = import(body).unwrap_err();
        (error.path, error.reason)
    }

    /// A TheHive 5 body as thehive4py and the TheHive docs write it.
    const HIVE5: &str = r#"{
        "type": "external", "source": "SIEM-prod", "sourceRef": "alert-4711",
        "title": "Suspicious login\nfrom Tor", "description": "**Seen** by the SIEM",
        "severity": 3, "date": 1700000000123, "tags": ["tor", "attack.t1078", "tor"],
        "tlp": 4, "pap": 1, "externalLink": "https://siem.example/a/4711",
        "customFields": {"score": {"integer": 7}},
        "observables": [
            {"dataType": "ip", "data": "203.0.113.7", "ioc": true, "tags": ["exit-node"]},
            {"dataType": "IP", "data": "2001:DB8::1", "tlp": 1},
            {"dataType": "domain", "data": "Evil.Example."},
            {"dataType": "hash", "data": "D41D8CD98F00B204E9800998ECF8427E", "sighted": true},
            {"dataType": "mail", "data": "eve@evil.example", "message": "sender"},
            {"dataType": "filename", "data": "invoice.pdf.exe"},
            {"dataType": "ip", "data": "203.0.113.7", "sighted": true}
        ]
    }"#;

    #[test]
    fn a_thehive5_body_maps_to_an_alert_and_observables() {
        let imported = import(HIVE5).unwrap();
        assert_eq!(imported.kind, "external");
        assert_eq!(imported.title, "Suspicious login from Tor");
        assert_eq!(imported.severity, Severity::High);
        assert_eq!(imported.tlp, Tlp::AmberStrict);
        assert_eq!(imported.pap, Pap::Green);
        assert_eq!(
            imported.date,
            Timestamp::from_millisecond(1_700_000_000_123).unwrap()
        );
        assert_eq!(imported.tags, ["tor", "attack.t1078"]);
        assert_eq!(
            imported.techniques(),
            ["T1078".parse::<AttackId>().unwrap()]
        );
        let values: Vec<String> = imported
            .observables
            .iter()
            .map(|observable| {
                format!(
                    "{}:{}",
                    observable.indicator.kind(),
                    observable.indicator.value()
                )
            })
            .collect();
        assert_eq!(
            values,
            [
                "ipv4:203.0.113.7",
                "ipv6:2001:db8::1",
                "domain:evil.example",
                "md5:d41d8cd98f00b204e9800998ecf8427e",
                "email:eve@evil.example"
            ]
        );
        // The repeated address united its flags; observables inherit the alert's TLP.
        assert!(imported.observables[0].ioc && imported.observables[0].sighted);
        assert_eq!(imported.observables[0].tlp, Tlp::AmberStrict);
        assert_eq!(imported.observables[1].tlp, Tlp::Green);
        assert_eq!(imported.observables[4].message.as_deref(), Some("sender"));
        assert_eq!(
            imported.other_observables,
            [OtherObservable {
                data_type: "filename".into(),
                data: Some("invoice.pdf.exe".into()),
                message: None
            }]
        );

        let alert = imported.to_alert();
        assert_eq!(alert.detection.label(), "Suspicious login from Tor");
        assert_eq!(alert.first_seen, imported.date);
        assert_eq!(
            alert.event.to_string(),
            "thehive:SIEM-prod/alert-4711#message1"
        );
        let fields: Vec<&str> = alert.matched.iter().map(|m| m.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "observable.ipv4",
                "observable.ipv6",
                "observable.domain",
                "observable.md5",
                "observable.email",
                "thehive.filename"
            ]
        );
        // A repeat with other observables is the same alert.
        let repeat = import(
            r#"{"type":"external","source":"SIEM-prod","sourceRef":"alert-4711","title":"x"}"#,
        )
        .unwrap();
        assert_eq!(repeat.to_alert().key, alert.key);
        assert_eq!(repeat.severity, Severity::Medium);
        assert_eq!(repeat.date, Timestamp::from_second(1_000).unwrap());
    }

    #[test]
    fn thehive4_artifacts_are_read_too() {
        let imported = import(
            r#"{"type":"misp","source":"misp-1","sourceRef":"5f2","title":"Event 12",
                "severity":1,"tlp":0,"artifacts":[{"dataType":"url","data":"hxxp://evil[.]example/x"},
                {"dataType":"file","attachment":{"name":"x.bin"}}]}"#,
        )
        .unwrap();
        assert_eq!(imported.severity, Severity::Low);
        assert_eq!(imported.tlp, Tlp::Clear);
        assert_eq!(
            imported.observables[0].indicator.value(),
            "http://evil.example/x"
        );
        assert_eq!(imported.other_observables[0].data_type, "file");
        assert_eq!(imported.other_observables[0].data, None);
        // An observable without data adds no matched field.
        assert_eq!(imported.to_alert().matched.len(), 1);
    }

    #[test]
    fn bad_bodies_name_the_field_at_fault() {
        assert_eq!(error_at("not json").0, "(body)");
        assert_eq!(
            error_at(" [1]"),
            ("(body)".into(), "expected a JSON object".into())
        );
        let (path, reason) = error_at(r#"{"type":"x","source":"s","title":"t"}"#);
        assert_eq!(path, "(body)");
        assert!(reason.contains("missing field `sourceRef`"), "{reason}");
        let base = r#""type":"x","source":"s","sourceRef":"r","title":"t""#;
        let at = |extra: &str| error_at(&format!("{{{base},{extra}}}"));
        assert_eq!(
            at(r#""severity":5"#),
            ("severity".into(), "5 is not 1 (low) to 4 (critical)".into())
        );
        assert_eq!(at(r#""severity":"high""#).0, "severity");
        assert_eq!(at(r#""tlp":7"#).0, "tlp");
        assert_eq!(at(r#""pap":4"#).0, "pap");
        assert_eq!(at(r#""date":9223372036854775807"#).0, "date");
        assert_eq!(at(r#""tags":["ok", 3]"#).0, "tags[1]");
        assert_eq!(at(r#""tags":["ok", "two\nlines"]"#).0, "tags[1]");
        assert_eq!(at(r#""observables":[{"data":"x"}]"#).0, "observables[0]");
        let (path, reason) = at(
            r#""observables":[{"dataType":"url","data":"a"},{"dataType":"ip","data":"999.1.1.1"}]"#,
        );
        assert_eq!(path, "observables[1].data");
        assert!(reason.starts_with("not a valid ip"), "{reason}");
        assert_eq!(
            at(r#""artifacts":[{"dataType":"hash","data":"abc"}]"#).0,
            "artifacts[0].data"
        );
        assert_eq!(
            at(r#""observables":[{"dataType":"domain"}]"#).0,
            "observables[0].data"
        );
        assert_eq!(
            at(r#""observables":[{"dataType":"ip","data":"1.2.3.4","tlp":9}]"#).0,
            "observables[0].tlp"
        );
        let (path, _) = error_at(r#"{"type":"x","source":" ","sourceRef":"r","title":"t"}"#);
        assert_eq!(path, "source");
        let (path, _) = error_at(r#"{"type":"x","source":"s","sourceRef":"r","title":"\n "}"#);
        assert_eq!(path, "title");
        let many = vec![r#"{"dataType":"other","data":"x"}"#; MAX_OBSERVABLES + 1].join(",");
        assert_eq!(at(&format!(r#""observables":[{many}]"#)).0, "observables");
        let error = import(r#"{"type":1}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("invalid TheHive alert at type: {}", error.reason)
        );
    }
}
