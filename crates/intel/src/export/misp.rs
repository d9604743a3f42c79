//! MISP export: one MISP event (`{"Event": {…, "Attribute": […]}}`) with one attribute per
//! indicator, streamed, that MISP's "add event from JSON" and Rampart's own `misp` format read.
//!
//! Identities are stable so that re-importing an export updates rather than duplicates: the
//! event uuid is derived from the event title (`info`), each attribute uuid from its kind and
//! value (UUID v5). The event is `distribution` 0 (this organisation only) and carries the
//! strictest TLP of its attributes; widening either is the MISP user's decision.
//! Each attribute is tagged with its TLP and its ATT&CK techniques
//! (`misp-galaxy:mitre-attack-pattern="T1566"`), carries its labels as tags, and says its score
//! and threats in `comment`. Suppressed indicators are exported with `to_ids: false`.

use std::io::Write;

use rampart_model::{Direction, Timestamp, Tlp};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{ExportItem, Exporter};
use crate::formats::misp::NOT_FOR_IDS_LABEL;
use crate::formats::misp::types::export_type;

/// Namespace of the v5 uuids Rampart gives MISP events and attributes it exports.
const NAMESPACE: Uuid = Uuid::from_u128(0x6f0c_54a2_9b1e_4d53_a2f4_3b7e_91c0_d5e8);
/// Labels exported as tags per attribute, at most: the rest are dropped from the export only.
const MAX_LABEL_TAGS: usize = 32;

/// Writes one MISP event.
pub struct MispExporter {
    info: String,
    now: Timestamp,
    attributes: u64,
    strictest: Tlp,
}

impl Default for MispExporter {
    fn default() -> Self {
        MispExporter::new("Rampart indicator export", Timestamp::now())
    }
}

impl MispExporter {
    /// An export titled `info` (the MISP event's title, which also fixes its uuid), dated `now`.
    pub fn new(info: impl Into<String>, now: Timestamp) -> MispExporter {
        MispExporter {
            info: info.into(),
            now,
            attributes: 0,
            strictest: Tlp::Clear,
        }
    }

    /// The uuid of the event exported under `info`.
    pub fn event_uuid(info: &str) -> Uuid {
        Uuid::new_v5(&NAMESPACE, format!("event:{info}").as_bytes())
    }

    fn attribute(&self, item: &ExportItem) -> Value {
        let stored = &item.indicator;
        let indicator = &stored.indicator;
        let mut directions = stored.sources.iter().filter_map(|s| s.direction).peekable();
        let source_only = directions.peek().is_some() && directions.all(|d| d == Direction::Source);
        let (misp_type, category) = export_type(indicator.kind(), source_only);
        let last_seen = stored
            .sources
            .iter()
            .map(|s| s.last_seen)
            .max()
            .unwrap_or(stored.first_seen);

        let mut tags = vec![format!("tlp:{}", stored.tlp().short())];
        let mut techniques: Vec<&str> = stored
            .sources
            .iter()
            .flat_map(|s| &s.techniques)
            .map(|t| t.as_str())
            .collect();
        techniques.sort_unstable();
        techniques.dedup();
        tags.extend(
            techniques
                .iter()
                .map(|id| format!("misp-galaxy:mitre-attack-pattern=\"{id}\"")),
        );
        let mut labels: Vec<&str> = stored
            .sources
            .iter()
            .flat_map(|s| &s.labels)
            .map(String::as_str)
            .filter(|label| {
                *label != NOT_FOR_IDS_LABEL && !label.to_ascii_lowercase().starts_with("tlp:")
            })
            .collect();
        labels.sort_unstable();
        labels.dedup();
        tags.extend(labels.into_iter().take(MAX_LABEL_TAGS).map(str::to_owned));

        let mut threats: Vec<&str> = stored
            .sources
            .iter()
            .flat_map(|s| &s.threats)
            .map(String::as_str)
            .collect();
        threats.sort_unstable();
        threats.dedup();
        let mut comment = format!("rampart score {}", item.score);
        if !threats.is_empty() {
            comment.push_str("; threats: ");
            comment.push_str(&threats.join(", "));
        }
        if let Some(reason) = &stored.suppressed {
            comment.push_str("; suppressed: ");
            comment.push_str(reason);
        }

        let key = format!("attribute:{}:{}", indicator.kind(), indicator.value());
        json!({
            "uuid": Uuid::new_v5(&NAMESPACE, key.as_bytes()).to_string(),
            "type": misp_type,
            "category": category,
            "value": indicator.value(),
            "to_ids": stored.suppressed.is_none(),
            "distribution": "5",
            "comment": comment,
            "timestamp": last_seen.as_second().to_string(),
            "first_seen": stored.first_seen.to_string(),
            "last_seen": last_seen.to_string(),
            "Tag": tags.into_iter().map(|name| json!({"name": name})).collect::<Vec<_>>(),
        })
    }
}

impl Exporter for MispExporter {
    fn name(&self) -> &'static str {
        "misp"
    }

    fn media_type(&self) -> &'static str {
        "application/json"
    }

    fn begin(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.attributes = 0;
        self.strictest = Tlp::Clear;
        let date = jiff::tz::TimeZone::UTC.to_datetime(self.now).date();
        // The header is written field by field so that the attribute list can stream; every
        // value goes through serde_json, so the title cannot break out of its string.
        write!(out, "{{\"Event\":{{\"uuid\":")?;
        serde_json::to_writer(&mut *out, &Self::event_uuid(&self.info).to_string())?;
        write!(out, ",\"info\":")?;
        serde_json::to_writer(&mut *out, &self.info)?;
        write!(out, ",\"date\":")?;
        serde_json::to_writer(&mut *out, &date.to_string())?;
        write!(
            out,
            ",\"timestamp\":\"{}\",\"published\":false,\"threat_level_id\":\"4\",\"analysis\":\"2\",\
             \"distribution\":\"0\",\"Attribute\":[",
            self.now.as_second()
        )
    }

    fn item(&mut self, item: &ExportItem, out: &mut dyn Write) -> std::io::Result<()> {
        if self.attributes > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, &self.attribute(item))?;
        self.attributes += 1;
        self.strictest = self.strictest.max(item.indicator.tlp());
        Ok(())
    }

    fn end(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        // Key order is free in JSON: the event's TLP goes last, once every attribute is known.
        write!(
            out,
            "],\"attribute_count\":\"{}\",\"Tag\":[{{\"name\":\"tlp:{}\"}}]}}}}",
            self.attributes,
            self.strictest.short()
        )?;
        writeln!(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use rampart_model::{AttackId, Indicator, IndicatorKind, Reliability};
    use rampart_store::{SourceStatement, StoredIndicator};

    use super::*;
    use crate::formats::misp::MispFormat;
    use crate::formats::{CollectSink, Format};

    fn item(kind: IndicatorKind, raw: &str, tlp: Tlp, direction: Option<Direction>) -> ExportItem {
        let seen: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
        let statement = SourceStatement {
            source: "osint".into(),
            reliability: Reliability::B,
            first_seen: seen,
            last_seen: seen,
            confidence: 70,
            tlp,
            labels: vec![
                "phishing".into(),
                "quote\"and\\slash".into(),
                NOT_FOR_IDS_LABEL.into(),
            ],
            techniques: vec!["T1566.002".parse::<AttackId>().unwrap()],
            threats: vec!["Emotet".into()],
            reference: "x".into(),
            valid_until: None,
            revoked: false,
            withdrawn_at: None,
            direction,
            port: None,
            pattern: None,
        };
        ExportItem {
            indicator: StoredIndicator {
                id: 1,
                indicator: Indicator::parse(kind, raw).unwrap(),
                first_seen: seen,
                suppressed: None,
                sources: vec![statement],
            },
            score: 77,
        }
    }

    fn all_kinds() -> Vec<ExportItem> {
        vec![
            item(
                IndicatorKind::Ipv4,
                "203.0.113.5",
                Tlp::Green,
                Some(Direction::Source),
            ),
            item(IndicatorKind::Ipv6, "2001:db8::5", Tlp::Clear, None),
            item(
                IndicatorKind::Cidr,
                "198.51.100.0/24",
                Tlp::Clear,
                Some(Direction::Destination),
            ),
            item(IndicatorKind::Domain, "evil.example", Tlp::Amber, None),
            item(
                IndicatorKind::Url,
                "http://evil.example/a?b=\"c\"",
                Tlp::Clear,
                None,
            ),
            item(IndicatorKind::Email, "boss@evil.example", Tlp::Clear, None),
            item(
                IndicatorKind::Md5,
                "d41d8cd98f00b204e9800998ecf8427e",
                Tlp::Clear,
                None,
            ),
            item(
                IndicatorKind::Sha1,
                "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                Tlp::Clear,
                None,
            ),
            item(
                IndicatorKind::Sha256,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Tlp::Clear,
                None,
            ),
            item(
                IndicatorKind::Sha512,
                &"cf83e1357eefb8bd".repeat(8),
                Tlp::Clear,
                None,
            ),
        ]
    }

    fn export(items: &[ExportItem], info: &str) -> Vec<u8> {
        let mut exporter = MispExporter::new(info, "2024-06-01T00:00:00Z".parse().unwrap());
        let mut out = Vec::new();
        exporter.begin(&mut out).unwrap();
        for item in items {
            exporter.item(item, &mut out).unwrap();
        }
        exporter.end(&mut out).unwrap();
        out
    }

    #[test]
    fn export_is_one_valid_event_with_strictest_tlp() {
        let out = export(&all_kinds(), "Weekly \"export\"\n</script>");
        let document: Value = serde_json::from_slice(&out).unwrap();
        let event = &document["Event"];
        assert_eq!(event["info"], "Weekly \"export\"\n</script>");
        assert_eq!(event["date"], "2024-06-01");
        assert_eq!(
            event["uuid"],
            MispExporter::event_uuid("Weekly \"export\"\n</script>").to_string()
        );
        assert_eq!(event["Tag"][0]["name"], "tlp:amber");
        assert_eq!(event["attribute_count"], "10");
        let attributes = event["Attribute"].as_array().unwrap();
        let types: Vec<&str> = attributes
            .iter()
            .map(|a| a["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "ip-src",
                "ip-dst",
                "ip-dst",
                "domain",
                "url",
                "email-src",
                "md5",
                "sha1",
                "sha256",
                "sha512"
            ]
        );
        let first = &attributes[0];
        assert_eq!(first["to_ids"], true);
        assert_eq!(first["category"], "Network activity");
        assert_eq!(first["comment"], "rampart score 77; threats: Emotet");
        let tags: Vec<&str> = first["Tag"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            tags,
            [
                "tlp:green",
                "misp-galaxy:mitre-attack-pattern=\"T1566.002\"",
                "phishing",
                "quote\"and\\slash"
            ]
        );
    }

    #[test]
    fn empty_export_is_valid_too() {
        let document: Value = serde_json::from_slice(&export(&[], "nothing")).unwrap();
        assert_eq!(document["Event"]["Attribute"], json!([]));
        assert_eq!(document["Event"]["Tag"][0]["name"], "tlp:clear");
    }

    #[test]
    fn suppressed_indicators_are_not_for_ids() {
        let mut suppressed = item(IndicatorKind::Domain, "cdn.example", Tlp::Clear, None);
        suppressed.indicator.suppressed = Some("warninglist: cdn".into());
        let document: Value = serde_json::from_slice(&export(&[suppressed], "x")).unwrap();
        let attribute = &document["Event"]["Attribute"][0];
        assert_eq!(attribute["to_ids"], false);
        assert!(
            attribute["comment"]
                .as_str()
                .unwrap()
                .ends_with("suppressed: warninglist: cdn")
        );
    }

    #[test]
    fn export_round_trips_through_the_misp_format() {
        let items = all_kinds();
        let out = export(&items, "round trip");
        let mut sink = CollectSink::default();
        MispFormat.parse(&mut out.as_slice(), &mut sink).unwrap();
        assert!(sink.rejections.is_empty(), "{:?}", sink.rejections);
        let exported: BTreeSet<(IndicatorKind, String)> = items
            .iter()
            .map(|item| {
                (
                    item.indicator.indicator.kind(),
                    item.indicator.indicator.value().to_owned(),
                )
            })
            .collect();
        let imported: BTreeSet<(IndicatorKind, String)> = sink
            .observations
            .iter()
            .map(|o| (o.indicator.kind(), o.indicator.value().to_owned()))
            .collect();
        assert_eq!(imported, exported);

        let domain = sink
            .observations
            .iter()
            .find(|o| o.indicator.kind() == IndicatorKind::Domain)
            .unwrap();
        assert_eq!(domain.tlp, Some(Tlp::Amber));
        assert_eq!(domain.techniques[0].as_str(), "T1566.002");
        assert!(domain.labels.contains(&"phishing".to_owned()));
        assert_eq!(
            domain.last_seen,
            Some("2024-05-01T12:00:00Z".parse().unwrap())
        );
        let source_ip = sink
            .observations
            .iter()
            .find(|o| o.indicator.kind() == IndicatorKind::Ipv4)
            .unwrap();
        assert_eq!(source_ip.direction, Some(Direction::Source));
        assert_eq!(
            sink.objects[0].id,
            MispExporter::event_uuid("round trip").to_string()
        );
    }

    #[test]
    fn exporter_is_registered() {
        assert!(crate::export::names().contains(&"misp"));
        assert_eq!(crate::export::by_name("misp").unwrap().name(), "misp");
    }
}
