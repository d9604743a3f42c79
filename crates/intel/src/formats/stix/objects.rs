//! What each STIX object becomes: indicators and cyber-observables give observations, and
//! every object (those included) is kept whole as a context object.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use rampart_model::{AttackId, ContextObject, Indicator, Observation, PatternNote, Timestamp, Tlp};
use serde_json::{Map, Value};

use super::pattern::{self, Target};
use super::{StixStats, TLP2_EXTENSION};
use crate::formats::{Rejection, Sink};

/// `external_references` sources whose `external_id` is an ATT&CK technique id.
const ATTACK_SOURCES: [&str; 3] = ["mitre-attack", "mitre-ics-attack", "mitre-mobile-attack"];

pub(super) struct ObjectReader<'s> {
    sink: &'s mut dyn Sink,
    /// TLP levels of marking-definition objects seen so far in the document.
    markings: HashMap<String, Tlp>,
    pub stats: StixStats,
    /// Whether the indicator just read was enforced exactly as written.
    indicator_captured: bool,
}

impl<'s> ObjectReader<'s> {
    pub fn new(sink: &'s mut dyn Sink) -> ObjectReader<'s> {
        ObjectReader {
            sink,
            markings: HashMap::new(),
            stats: StixStats::default(),
            indicator_captured: false,
        }
    }

    fn reject_object(&mut self, reference: &str, reason: String) {
        self.stats.rejected_objects += 1;
        self.sink.reject(Rejection::new(reference, reason));
    }

    fn reject_value(&mut self, reference: &str, reason: String) {
        self.stats.rejected_values += 1;
        self.sink.reject(Rejection::new(reference, reason));
    }

    fn observation(&mut self, observation: Observation) {
        self.stats.observations += 1;
        self.sink.observation(observation);
    }

    /// Handles one element of the document.
    pub fn object(&mut self, value: Value) {
        let position = self.stats.objects;
        self.stats.objects += 1;
        let Value::Object(object) = value else {
            self.reject_object(&format!("objects[{position}]"), "not a JSON object".into());
            return;
        };
        let fields = Fields::of(&object);
        let id = match fields.id {
            Some(Value::String(id)) if !id.is_empty() => id.clone(),
            _ => {
                let what = fields
                    .object_type
                    .and_then(Value::as_str)
                    .unwrap_or("object");
                self.reject_object(&format!("objects[{position}]"), format!("{what} has no id"));
                return;
            }
        };
        let object_type = match fields.object_type {
            Some(Value::String(kind)) if !kind.is_empty() => kind.clone(),
            _ => {
                self.reject_object(&id, "object has no type".into());
                return;
            }
        };
        let tlp = self.tlp_of(&fields);
        let modified = fields.timestamp(fields.modified);
        let keep = match object_type.as_str() {
            "indicator" => self.indicator(&id, &fields, tlp, modified),
            "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" | "email-addr" | "file" => {
                self.observable(&id, &object_type, &fields, tlp, modified);
                true
            }
            "marking-definition" => {
                if let Some(level) = marking_tlp(&id, &fields) {
                    self.markings.insert(id.clone(), level);
                }
                true
            }
            _ => true,
        };
        let captured = std::mem::take(&mut self.indicator_captured);
        if !keep || (object_type == "indicator" && captured && fully_captured(&object)) {
            return;
        }
        let context = ContextObject {
            name: fields.name.and_then(Value::as_str).map(str::to_owned),
            attack_id: fields.external_references.and_then(attack_id),
            modified: modified.or_else(|| fields.timestamp(fields.created)),
            revoked: fields.revoked(),
            tlp,
            id,
            object_type,
            body: Value::Object(object),
        };
        self.stats.context_objects += 1;
        self.sink.object(context);
    }

    /// The strictest TLP among `object_marking_refs`: well-known TLP 1.0/2.0 ids, or
    /// marking definitions seen earlier in the document.
    fn tlp_of(&self, fields: &Fields<'_>) -> Option<Tlp> {
        let refs = fields.object_marking_refs?.as_array()?;
        refs.iter()
            .filter_map(Value::as_str)
            .filter_map(|id| Tlp::from_stix_marking(id).or_else(|| self.markings.get(id).copied()))
            .max()
    }

    /// Sends an indicator's observations; `false` when the indicator is rejected.
    fn indicator(
        &mut self,
        id: &str,
        fields: &Fields<'_>,
        tlp: Option<Tlp>,
        modified: Option<Timestamp>,
    ) -> bool {
        self.stats.indicators += 1;
        match fields.pattern_type {
            None => {}
            Some(Value::String(kind)) if kind == "stix" => {}
            Some(_) => {
                // sigma, snort, yara, …: kept for context, nothing Rampart can enforce.
                self.stats.other_pattern_types += 1;
                return true;
            }
        }
        let Some(source) = fields.pattern.and_then(Value::as_str) else {
            self.reject_object(id, "indicator has no pattern".into());
            return false;
        };
        let parsed = match pattern::parse(source) {
            Ok(parsed) => parsed,
            Err(err) => {
                self.reject_object(id, format!("pattern: {err}"));
                return false;
            }
        };
        let mut extraction = pattern::extract(&parsed);
        let mut indicators: Vec<Indicator> = Vec::with_capacity(extraction.values.len());
        let mut invalid = Vec::new();
        for extracted in &extraction.values {
            match extracted.target.indicator(&extracted.value) {
                Ok(indicator) => indicators.push(indicator),
                Err(reason) => invalid.push(format!(
                    "value {:?} of {} is not valid: {reason}",
                    extracted.value,
                    extracted.target.object_type()
                )),
            }
        }
        dedupe(&mut indicators);
        for reason in invalid {
            extraction.add_reason(&reason);
            self.reject_value(id, reason);
        }
        if indicators.is_empty() {
            self.stats.patterns_without_values += 1;
            return true;
        }
        if extraction.unenforced.is_some() {
            self.stats.patterns_unenforced += 1;
        }
        let mut labels = strings(fields.labels);
        labels.extend(strings(fields.indicator_types));
        if let Some(phases) = fields.kill_chain_phases.and_then(Value::as_array) {
            for phase in phases.iter().filter_map(|p| p.get("phase_name")?.as_str()) {
                labels.push(format!("kill-chain:{phase}"));
            }
        }
        dedupe(&mut labels);
        let note = PatternNote {
            pattern: source.to_owned(),
            unenforced: extraction.unenforced,
        };
        let mut template = Observation::new(indicators[0].clone(), id);
        template.first_seen = fields
            .timestamp(fields.valid_from)
            .or_else(|| fields.timestamp(fields.created));
        template.last_seen = modified;
        template.valid_until = fields.timestamp(fields.valid_until);
        template.confidence = fields
            .confidence
            .and_then(Value::as_u64)
            .filter(|c| *c <= 100)
            .map(|c| c as u8);
        template.tlp = tlp;
        template.labels = labels;
        template.revoked = fields.revoked();
        // Only a pattern enforced exactly as written is fully kept by its statements.
        self.indicator_captured = note.unenforced.is_none();
        template.pattern = Some(note);
        let last = indicators.len() - 1;
        for (index, indicator) in indicators.into_iter().enumerate() {
            if index == last {
                template.indicator = indicator;
                self.observation(template);
                break;
            }
            let mut observation = template.clone();
            observation.indicator = indicator;
            self.observation(observation);
        }
        true
    }

    /// Cyber-observable objects that carry a matchable value.
    fn observable(
        &mut self,
        id: &str,
        object_type: &str,
        fields: &Fields<'_>,
        tlp: Option<Tlp>,
        modified: Option<Timestamp>,
    ) {
        let mut candidates: Vec<(Target, &str)> = Vec::new();
        let value = fields.value.and_then(Value::as_str);
        match (object_type, value) {
            ("ipv4-addr", Some(value)) => candidates.push((Target::Ipv4Addr, value)),
            ("ipv6-addr", Some(value)) => candidates.push((Target::Ipv6Addr, value)),
            ("domain-name", Some(value)) => candidates.push((Target::DomainName, value)),
            ("url", Some(value)) => candidates.push((Target::Url, value)),
            ("email-addr", Some(value)) => candidates.push((Target::EmailAddr, value)),
            ("file", _) => {
                if let Some(hashes) = fields.hashes.and_then(Value::as_object) {
                    for (name, value) in hashes {
                        if let (Some(kind), Some(value)) =
                            (pattern::hash_kind(name), value.as_str())
                        {
                            candidates.push((Target::FileHash(kind), value));
                        }
                    }
                }
            }
            _ => {}
        }
        for (target, raw) in candidates {
            match target.indicator(raw) {
                Ok(indicator) => {
                    let mut observation = Observation::new(indicator, id);
                    observation.tlp = tlp;
                    observation.labels = vec!["observable".to_owned()];
                    observation.first_seen = fields.timestamp(fields.created);
                    observation.last_seen = modified;
                    observation.revoked = fields.revoked();
                    self.observation(observation);
                }
                Err(reason) => {
                    self.reject_value(
                        id,
                        format!("value {raw:?} of {object_type} is not valid: {reason}"),
                    );
                }
            }
        }
    }
}

/// The properties Rampart reads, found in one pass over the object: cheaper than a hashed
/// lookup per property, which showed in profiles of million-indicator imports.
#[derive(Default)]
struct Fields<'a> {
    id: Option<&'a Value>,
    object_type: Option<&'a Value>,
    name: Option<&'a Value>,
    created: Option<&'a Value>,
    modified: Option<&'a Value>,
    revoked: Option<&'a Value>,
    object_marking_refs: Option<&'a Value>,
    external_references: Option<&'a Value>,
    pattern: Option<&'a Value>,
    pattern_type: Option<&'a Value>,
    valid_from: Option<&'a Value>,
    valid_until: Option<&'a Value>,
    confidence: Option<&'a Value>,
    labels: Option<&'a Value>,
    indicator_types: Option<&'a Value>,
    kill_chain_phases: Option<&'a Value>,
    value: Option<&'a Value>,
    hashes: Option<&'a Value>,
    definition_type: Option<&'a Value>,
    definition: Option<&'a Value>,
    extensions: Option<&'a Value>,
}

impl<'a> Fields<'a> {
    fn of(object: &'a Map<String, Value>) -> Fields<'a> {
        let mut fields = Fields::default();
        for (key, value) in object {
            let slot = match key.as_str() {
                "id" => &mut fields.id,
                "type" => &mut fields.object_type,
                "name" => &mut fields.name,
                "created" => &mut fields.created,
                "modified" => &mut fields.modified,
                "revoked" => &mut fields.revoked,
                "object_marking_refs" => &mut fields.object_marking_refs,
                "external_references" => &mut fields.external_references,
                "pattern" => &mut fields.pattern,
                "pattern_type" => &mut fields.pattern_type,
                "valid_from" => &mut fields.valid_from,
                "valid_until" => &mut fields.valid_until,
                "confidence" => &mut fields.confidence,
                "labels" => &mut fields.labels,
                "indicator_types" => &mut fields.indicator_types,
                "kill_chain_phases" => &mut fields.kill_chain_phases,
                "value" => &mut fields.value,
                "hashes" => &mut fields.hashes,
                "definition_type" => &mut fields.definition_type,
                "definition" => &mut fields.definition,
                "extensions" => &mut fields.extensions,
                _ => continue,
            };
            *slot = Some(value);
        }
        fields
    }

    fn timestamp(&self, value: Option<&Value>) -> Option<Timestamp> {
        super::time::parse(value?.as_str()?)
    }

    fn revoked(&self) -> bool {
        self.revoked.and_then(Value::as_bool).unwrap_or(false)
    }
}

/// The TLP level a marking-definition object defines, if it is a TLP marking.
fn marking_tlp(id: &str, fields: &Fields<'_>) -> Option<Tlp> {
    if let Some(known) = Tlp::from_stix_marking(id) {
        return Some(known);
    }
    if fields.definition_type.and_then(Value::as_str) == Some("tlp")
        && let Some(level) = fields
            .definition
            .and_then(|d| d.get("tlp"))
            .and_then(Value::as_str)
    {
        return level.parse().ok();
    }
    let extension = fields.extensions?.get(TLP2_EXTENSION)?;
    extension.get("tlp_2_0")?.as_str()?.parse().ok()
}

/// The ATT&CK technique id among `external_references`, if any.
fn attack_id(references: &Value) -> Option<AttackId> {
    references.as_array()?.iter().find_map(|reference| {
        let source = reference.get("source_name")?.as_str()?;
        if !ATTACK_SOURCES.contains(&source) {
            return None;
        }
        reference.get("external_id")?.as_str()?.parse().ok()
    })
}

fn strings(value: Option<&Value>) -> Vec<String> {
    match value.and_then(Value::as_array) {
        Some(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    }
}

/// Removes repeats, keeping first occurrences in order. Lists are usually a handful long,
/// but attackers choose their length, so long ones go through a hash set.
fn dedupe<T: Eq + Hash + Clone>(items: &mut Vec<T>) {
    if items.len() <= 8 {
        let mut index = 1;
        while index < items.len() {
            if items[..index].contains(&items[index]) {
                items.remove(index);
            } else {
                index += 1;
            }
        }
        return;
    }
    let mut seen = HashSet::with_capacity(items.len());
    items.retain(|item| seen.insert(item.clone()));
}

/// Properties of an indicator object that its statements keep (values, times, confidence,
/// labels, TLP, revocation, the pattern and its note) or that carry no threat information.
const CAPTURED_INDICATOR_PROPERTIES: [&str; 17] = [
    "type",
    "spec_version",
    "id",
    "created",
    "modified",
    "name",
    "pattern",
    "pattern_type",
    "pattern_version",
    "valid_from",
    "valid_until",
    "confidence",
    "labels",
    "revoked",
    "indicator_types",
    "object_marking_refs",
    "kill_chain_phases",
];

/// Whether an indicator object says nothing its statements do not keep. Such objects are not
/// stored as context (a million-indicator feed would otherwise store every indicator twice);
/// any other property — a description, external references, custom `x_` properties,
/// extensions — keeps the whole object.
fn fully_captured(object: &serde_json::Map<String, Value>) -> bool {
    object
        .keys()
        .all(|key| CAPTURED_INDICATOR_PROPERTIES.contains(&key.as_str()))
}
