//! STIX 2.1 export: a bundle with one `indicator` per indicator, written as it streams.
//!
//! Ids are UUIDv5 over `kind:value`, so exporting the same indicator twice gives the same id
//! and consumers update it instead of duplicating it. Each indicator is marked with the TLP 2.0
//! marking of its strictest source, and that marking-definition object (as published by the
//! OASIS CTI TC) is written once, before the first indicator that uses it.

use std::io::Write;

use rampart_model::{IndicatorKind, Timestamp, Tlp};
use serde::Serialize;
use uuid::Uuid;

use super::{ExportItem, Exporter};
use crate::formats::stix::pattern::quote;

/// The namespace of Rampart's indicator ids (`indicator--uuidv5(namespace, "kind:value")`).
pub const INDICATOR_NAMESPACE: Uuid = Uuid::from_u128(0xacbf997a_f6bd_456b_bd5b_24e3678a3168);

/// Writes a STIX 2.1 bundle.
#[derive(Debug, Default)]
pub struct StixExporter {
    /// Objects written so far (the separator before the next one depends on it).
    written: usize,
    /// Which TLP 2.0 marking definitions are already in the bundle, by `tlp_index`.
    markings: [bool; 5],
}

impl StixExporter {
    fn write_object(
        &mut self,
        object: &impl Serialize,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        out.write_all(if self.written == 0 {
            b",\"objects\":[\n"
        } else {
            b",\n"
        })?;
        serde_json::to_writer(&mut *out, object)?;
        self.written += 1;
        Ok(())
    }
}

impl Exporter for StixExporter {
    fn name(&self) -> &'static str {
        "stix"
    }

    fn media_type(&self) -> &'static str {
        "application/stix+json;version=2.1"
    }

    fn begin(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.written = 0;
        self.markings = [false; 5];
        // The `objects` member opens with the first object: STIX forbids an empty array.
        write!(
            out,
            "{{\"type\":\"bundle\",\"id\":\"bundle--{}\"",
            Uuid::new_v4()
        )
    }

    fn item(&mut self, item: &ExportItem, out: &mut dyn Write) -> std::io::Result<()> {
        let stored = &item.indicator;
        let tlp = stored.tlp();
        if !self.markings[tlp_index(tlp)] {
            self.write_object(&MarkingDefinition::of(tlp), out)?;
            self.markings[tlp_index(tlp)] = true;
        }
        self.write_object(&IndicatorObject::of(item, None), out)
    }

    fn end(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        out.write_all(if self.written == 0 { b"}\n" } else { b"\n]}\n" })
    }
}

fn tlp_index(tlp: Tlp) -> usize {
    match tlp {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

/// The STIX id Rampart gives an indicator.
pub fn indicator_id(kind: IndicatorKind, value: &str) -> String {
    let name = format!("{kind}:{value}");
    format!(
        "indicator--{}",
        Uuid::new_v5(&INDICATOR_NAMESPACE, name.as_bytes())
    )
}

/// The STIX pattern that matches exactly this indicator.
pub fn pattern_of(kind: IndicatorKind, value: &str) -> String {
    let path = match kind {
        IndicatorKind::Ipv4 => "ipv4-addr:value",
        IndicatorKind::Ipv6 => "ipv6-addr:value",
        IndicatorKind::Cidr if value.contains(':') => "ipv6-addr:value",
        IndicatorKind::Cidr => "ipv4-addr:value",
        IndicatorKind::Domain => "domain-name:value",
        IndicatorKind::Url => "url:value",
        IndicatorKind::Email => "email-addr:value",
        IndicatorKind::Md5 => "file:hashes.MD5",
        IndicatorKind::Sha1 => "file:hashes.'SHA-1'",
        IndicatorKind::Sha256 => "file:hashes.'SHA-256'",
        IndicatorKind::Sha512 => "file:hashes.'SHA-512'",
    };
    format!("[{path} = {}]", quote(value))
}

/// One indicator as a STIX 2.1 `indicator` object. Its `modified` is `version` when given
/// (the TAXII server passes when the indicator's statements last changed, so that a version
/// stays the same object until something about it changes), else its latest sighting as in
/// a bundle export.
pub fn indicator_object(item: &ExportItem, version: Option<Timestamp>) -> serde_json::Value {
    // Serialising plain strings, numbers and lists cannot fail.
    serde_json::to_value(IndicatorObject::of(item, version)).unwrap_or_default()
}

/// The `modified` [`indicator_object`] gives an indicator with this version time.
pub fn indicator_version(item: &ExportItem, version: Option<Timestamp>) -> String {
    IndicatorObject::of(item, version).modified
}

/// The TLP 2.0 marking-definition object of `tlp`, as the OASIS CTI TC publishes it.
pub fn marking_definition(tlp: Tlp) -> serde_json::Value {
    serde_json::to_value(MarkingDefinition::of(tlp)).unwrap_or_default()
}

/// STIX timestamps: UTC, millisecond precision (required for `created` and `modified`).
pub fn stix_time(timestamp: Timestamp) -> String {
    timestamp.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[derive(Serialize)]
struct MarkingDefinition {
    #[serde(rename = "type")]
    object_type: &'static str,
    spec_version: &'static str,
    id: &'static str,
    created: &'static str,
    name: &'static str,
    extensions: Tlp2Extensions,
}

#[derive(Serialize)]
struct Tlp2Extensions {
    /// `TLP2_EXTENSION` of the STIX format (a test checks they agree).
    #[serde(rename = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d")]
    tlp: Tlp2Extension,
}

#[derive(Serialize)]
struct Tlp2Extension {
    extension_type: &'static str,
    tlp_2_0: &'static str,
}

impl MarkingDefinition {
    /// The TLP 2.0 marking definition as published with the TLP 2.0 extension.
    fn of(tlp: Tlp) -> MarkingDefinition {
        MarkingDefinition {
            object_type: "marking-definition",
            spec_version: "2.1",
            id: tlp.stix_marking_id(),
            created: "2022-10-01T00:00:00.000Z",
            name: tlp.label(),
            extensions: Tlp2Extensions {
                tlp: Tlp2Extension {
                    extension_type: "property-extension",
                    tlp_2_0: tlp.short(),
                },
            },
        }
    }
}

#[derive(Serialize)]
struct IndicatorObject<'a> {
    #[serde(rename = "type")]
    object_type: &'static str,
    spec_version: &'static str,
    id: String,
    created: String,
    modified: String,
    name: &'a str,
    description: String,
    indicator_types: [&'static str; 1],
    pattern: String,
    pattern_type: &'static str,
    pattern_version: &'static str,
    valid_from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    valid_until: Option<String>,
    confidence: u8,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    revoked: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_references: Vec<ExternalReference>,
    object_marking_refs: [&'static str; 1],
}

/// A readable summary; the threats the sources relate the indicator to have no other place
/// on a bare indicator (relationships to malware objects would need those objects).
fn description(kind: IndicatorKind, threats: &[&str]) -> String {
    let what = match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => "IP address",
        IndicatorKind::Cidr => "network",
        IndicatorKind::Domain => "domain name",
        IndicatorKind::Url => "URL",
        IndicatorKind::Email => "email address",
        IndicatorKind::Md5
        | IndicatorKind::Sha1
        | IndicatorKind::Sha256
        | IndicatorKind::Sha512 => "file hash",
    };
    if threats.is_empty() {
        format!("Malicious {what} reported to Rampart")
    } else {
        format!(
            "Malicious {what} reported to Rampart, related to {}",
            threats.join(", ")
        )
    }
}

#[derive(Serialize)]
struct ExternalReference {
    source_name: &'static str,
    external_id: String,
}

impl<'a> IndicatorObject<'a> {
    fn of(item: &'a ExportItem, version: Option<Timestamp>) -> IndicatorObject<'a> {
        let stored = &item.indicator;
        let kind = stored.indicator.kind();
        let value = stored.indicator.value();
        let sources = &stored.sources;
        let created = stix_time(stored.first_seen);
        let last_seen = sources
            .iter()
            .map(|s| s.last_seen)
            .max()
            .unwrap_or(stored.first_seen);
        // `modified` may not precede `created`; compare after rounding to milliseconds.
        let modified = stix_time(version.unwrap_or(last_seen)).max(created.clone());
        // The indicator is valid until the last source stops vouching for it, and only if
        // every source gave an end.
        let valid_until = if !sources.is_empty() && sources.iter().all(|s| s.valid_until.is_some())
        {
            sources
                .iter()
                .filter_map(|s| s.valid_until)
                .max()
                .map(stix_time)
                .filter(|until| *until > created)
        } else {
            None
        };
        let mut labels: Vec<&str> = sources
            .iter()
            .flat_map(|s| s.labels.iter().map(String::as_str))
            .collect();
        labels.sort_unstable();
        labels.dedup();
        let mut techniques: Vec<String> = sources
            .iter()
            .flat_map(|s| s.techniques.iter().map(|t| t.as_str().to_owned()))
            .collect();
        techniques.sort_unstable();
        techniques.dedup();
        let mut threats: Vec<&str> = sources
            .iter()
            .flat_map(|s| s.threats.iter().map(String::as_str))
            .collect();
        threats.sort_unstable();
        threats.dedup();
        IndicatorObject {
            object_type: "indicator",
            spec_version: "2.1",
            id: indicator_id(kind, value),
            modified,
            name: value,
            description: description(kind, &threats),
            indicator_types: ["malicious-activity"],
            pattern: pattern_of(kind, value),
            pattern_type: "stix",
            pattern_version: "2.1",
            valid_from: created.clone(),
            created,
            valid_until,
            confidence: item.score.min(100),
            revoked: !sources.is_empty() && sources.iter().all(|s| s.revoked),
            labels,
            external_references: techniques
                .into_iter()
                .map(|external_id| ExternalReference {
                    source_name: "mitre-attack",
                    external_id,
                })
                .collect(),
            object_marking_refs: [stored.tlp().stix_marking_id()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::stix::TLP2_EXTENSION;

    #[test]
    fn patterns_escape_quotes_and_backslashes() {
        assert_eq!(
            pattern_of(IndicatorKind::Url, r"http://a.example/it's\x"),
            r"[url:value = 'http://a.example/it\'s\\x']"
        );
        assert_eq!(
            pattern_of(IndicatorKind::Cidr, "2001:db8::/32"),
            "[ipv6-addr:value = '2001:db8::/32']"
        );
        assert_eq!(
            pattern_of(IndicatorKind::Sha256, "ab"),
            "[file:hashes.'SHA-256' = 'ab']"
        );
    }

    #[test]
    fn ids_are_stable_uuid_v5() {
        let id = indicator_id(IndicatorKind::Domain, "evil.example");
        assert_eq!(id, indicator_id(IndicatorKind::Domain, "evil.example"));
        assert_ne!(id, indicator_id(IndicatorKind::Url, "evil.example"));
        let uuid: Uuid = id.trim_start_matches("indicator--").parse().unwrap();
        assert_eq!(uuid.get_version_num(), 5);
    }

    #[test]
    fn marking_definitions_are_the_published_tlp2_objects() {
        let marking = serde_json::to_value(MarkingDefinition::of(Tlp::AmberStrict)).unwrap();
        assert_eq!(
            marking,
            serde_json::json!({
                "type": "marking-definition",
                "spec_version": "2.1",
                "id": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
                "created": "2022-10-01T00:00:00.000Z",
                "name": "TLP:AMBER+STRICT",
                "extensions": {
                    TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": "amber+strict"}
                }
            })
        );
    }

    #[test]
    fn timestamps_have_milliseconds() {
        let at: Timestamp = "2024-05-06T07:08:09.123456Z".parse().unwrap();
        assert_eq!(stix_time(at), "2024-05-06T07:08:09.123Z");
        let whole: Timestamp = "2024-05-06T07:08:09Z".parse().unwrap();
        assert_eq!(stix_time(whole), "2024-05-06T07:08:09.000Z");
    }
}
