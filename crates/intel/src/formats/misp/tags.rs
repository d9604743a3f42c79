//! Tags and galaxy clusters, read into what an observation carries: TLP, ATT&CK techniques,
//! threat names, labels and a confidence.
//!
//! Tags sit at three levels (event, object, attribute); each level is read into a [`Layer`]
//! and the layers are merged per attribute. The strictest TLP of all levels wins, so an
//! attribute tag can make an event's TLP stricter but never looser.

use rampart_model::{AttackId, Tlp};
use serde_json::Value;

use super::types::{is_technique_galaxy, is_threat_galaxy};

/// What the tags and galaxies of one level say.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Layer {
    pub tlp: Option<Tlp>,
    pub labels: Vec<String>,
    pub techniques: Vec<AttackId>,
    pub threats: Vec<String>,
    /// From an `osint:certainty="N"` tag (MISP's OSINT taxonomy gives N as a percentage).
    pub certainty: Option<u8>,
}

impl Layer {
    /// Reads the `Tag` and `Galaxy` members of an event, object or attribute.
    pub fn of(object: &serde_json::Map<String, Value>) -> Layer {
        let mut layer = Layer::default();
        if let Some(Value::Array(tags)) = object.get("Tag") {
            for tag in tags {
                let name = match tag {
                    Value::Object(tag) => tag.get("name").and_then(Value::as_str),
                    Value::String(name) => Some(name.as_str()),
                    _ => None,
                };
                if let Some(name) = name {
                    layer.add_tag(name);
                }
            }
        }
        if let Some(Value::Array(galaxies)) = object.get("Galaxy") {
            for galaxy in galaxies {
                layer.add_galaxy(galaxy);
            }
        }
        layer
    }

    /// Reads one tag name.
    pub fn add_tag(&mut self, name: &str) {
        let name = name.trim();
        if name.is_empty() {
            return;
        }
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("tlp:")
            && let Ok(tlp) = name.parse::<Tlp>()
        {
            self.add_tlp(tlp);
            return;
        }
        if let Some(rest) = lower.strip_prefix("misp-galaxy:")
            && let Some((galaxy_type, _)) = rest.split_once('=')
        {
            let value = quoted_value(name).unwrap_or_default();
            if self.add_cluster(galaxy_type, value, &[]) {
                return;
            }
        }
        if lower.starts_with("mitre-attack")
            && let Some(id) = AttackId::find_in(name)
        {
            push_unique(&mut self.techniques, id);
            return;
        }
        if let Some(rest) = lower.strip_prefix("osint:certainty=")
            && let Ok(percent) = rest.trim_matches('"').parse::<u8>()
            && percent <= 100
        {
            self.certainty = Some(percent);
        }
        push_unique(&mut self.labels, name.to_owned());
    }

    /// Reads one galaxy block (`{"type": …, "GalaxyCluster": [{"value": …, "meta": …}]}`).
    fn add_galaxy(&mut self, galaxy: &Value) {
        let galaxy_type = galaxy
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(Value::Array(clusters)) = galaxy.get("GalaxyCluster") else {
            return;
        };
        for cluster in clusters {
            let cluster_type = cluster
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or(galaxy_type);
            let value = cluster
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let external_ids: Vec<&str> = match cluster.pointer("/meta/external_id") {
                Some(Value::Array(ids)) => ids.iter().filter_map(Value::as_str).collect(),
                Some(Value::String(id)) => vec![id.as_str()],
                _ => Vec::new(),
            };
            if !self.add_cluster(cluster_type, value, &external_ids) {
                let tag_name = cluster.get("tag_name").and_then(Value::as_str);
                let label = tag_name.map_or_else(
                    || format!("misp-galaxy:{cluster_type}=\"{value}\""),
                    str::to_owned,
                );
                push_unique(&mut self.labels, label);
            }
        }
    }

    /// Reads one cluster; `false` when its galaxy is neither a threat nor a technique galaxy
    /// (the caller keeps it as a label).
    fn add_cluster(&mut self, galaxy_type: &str, value: &str, external_ids: &[&str]) -> bool {
        if is_technique_galaxy(galaxy_type) {
            let id = external_ids
                .iter()
                .find_map(|id| id.parse::<AttackId>().ok())
                .or_else(|| AttackId::find_in(value));
            return match id {
                Some(id) => {
                    push_unique(&mut self.techniques, id);
                    true
                }
                None => false,
            };
        }
        if is_threat_galaxy(galaxy_type) {
            let name = strip_attack_suffix(value);
            if name.is_empty() {
                return false;
            }
            push_unique(&mut self.threats, name.to_owned());
            return true;
        }
        false
    }

    fn add_tlp(&mut self, tlp: Tlp) {
        self.tlp = self.tlp.max(Some(tlp));
    }

    /// This layer with a more specific one on top: strictest TLP, union of the lists, the
    /// more specific certainty.
    pub fn merged(&self, specific: &Layer) -> Layer {
        let mut merged = self.clone();
        merged.tlp = merged.tlp.max(specific.tlp);
        for label in &specific.labels {
            push_unique(&mut merged.labels, label.clone());
        }
        for technique in &specific.techniques {
            push_unique(&mut merged.techniques, technique.clone());
        }
        for threat in &specific.threats {
            push_unique(&mut merged.threats, threat.clone());
        }
        merged.certainty = specific.certainty.or(merged.certainty);
        merged
    }
}

/// The text between the first and the last double quote of a machine tag
/// (`misp-galaxy:banker="Gozi"` → `Gozi`).
fn quoted_value(tag: &str) -> Option<&str> {
    let start = tag.find('"')?;
    let end = tag.rfind('"')?;
    (end > start).then(|| &tag[start + 1..end])
}

/// Drops the ATT&CK software/group id that MITRE galaxies append (`BACKSPACE - S0031`), so the
/// name matches the same threat named by other sources.
fn strip_attack_suffix(value: &str) -> &str {
    let trimmed = value.trim();
    if let Some((name, id)) = trimmed.rsplit_once(" - ") {
        let bytes = id.as_bytes();
        let looks_like_id = bytes.len() == 5
            && matches!(bytes[0], b'S' | b'G' | b'C' | b'M')
            && bytes[1..].iter().all(u8::is_ascii_digit);
        if looks_like_id {
            return name.trim();
        }
    }
    trimmed
}

fn push_unique<T: PartialEq>(list: &mut Vec<T>, item: T) {
    if !list.contains(&item) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn layer(value: Value) -> Layer {
        match value {
            Value::Object(map) => Layer::of(&map),
            _ => unreachable!(),
        }
    }

    #[test]
    fn tags_become_tlp_techniques_threats_and_labels() {
        let read = layer(json!({"Tag": [
            {"name": "tlp:green"},
            {"name": "TLP:AMBER"},
            {"name": "misp-galaxy:mitre-attack-pattern=\"Spearphishing Link - T1566.002\""},
            {"name": "mitre-attack:T1059"},
            {"name": "misp-galaxy:mitre-malware=\"BACKSPACE - S0031\""},
            {"name": "misp-galaxy:threat-actor=\"Sofacy\""},
            {"name": "misp-galaxy:mitre-course-of-action=\"Account Discovery Mitigation - T1087\""},
            {"name": "osint:certainty=\"93\""},
            {"name": "type:OSINT"},
            {"name": "tlp:ex:chr"},
        ]}));
        assert_eq!(read.tlp, Some(Tlp::Amber), "strictest of the two TLP tags");
        let techniques: Vec<_> = read.techniques.iter().map(AttackId::as_str).collect();
        assert_eq!(techniques, ["T1566.002", "T1059"]);
        assert_eq!(read.threats, ["BACKSPACE", "Sofacy"]);
        assert_eq!(read.certainty, Some(93));
        assert_eq!(
            read.labels,
            [
                "misp-galaxy:mitre-course-of-action=\"Account Discovery Mitigation - T1087\"",
                "osint:certainty=\"93\"",
                "type:OSINT",
                "tlp:ex:chr",
            ]
        );
    }

    #[test]
    fn galaxy_blocks_use_external_ids_and_values() {
        let read = layer(json!({"Galaxy": [
            {"type": "mitre-attack-pattern", "GalaxyCluster": [
                {"value": "Phishing", "meta": {"external_id": ["T1566"]}}]},
            {"type": "banker", "GalaxyCluster": [{"type": "banker", "value": "Gozi"}]},
            {"type": "sector", "GalaxyCluster": [{"value": "Finance", "tag_name": "misp-galaxy:sector=\"Finance\""}]},
        ]}));
        assert_eq!(read.techniques, ["T1566".parse::<AttackId>().unwrap()]);
        assert_eq!(read.threats, ["Gozi"]);
        assert_eq!(read.labels, ["misp-galaxy:sector=\"Finance\""]);
    }

    #[test]
    fn attribute_tlp_only_tightens_the_event_tlp() {
        let event = layer(json!({"Tag": [{"name": "tlp:amber"}]}));
        let looser = layer(json!({"Tag": [{"name": "tlp:clear"}]}));
        let stricter = layer(json!({"Tag": [{"name": "tlp:red"}]}));
        assert_eq!(event.merged(&looser).tlp, Some(Tlp::Amber));
        assert_eq!(event.merged(&stricter).tlp, Some(Tlp::Red));
        assert_eq!(Layer::default().merged(&looser).tlp, Some(Tlp::Clear));
    }
}
