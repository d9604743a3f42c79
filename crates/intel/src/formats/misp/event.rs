//! One MISP event (or one stand-alone attribute) into observations and a context object.
//!
//! Confidence: MISP has no per-attribute confidence, so the event's `analysis` state stands in
//! for it — `0` initial → 50, `1` ongoing → 65, `2` completed → 80; no `analysis` leaves it to
//! the source's default. An `osint:certainty="N"` tag (event, object or attribute; the most
//! specific wins) sets it to N instead. `to_ids: false` (the author says "do not use for
//! detection") caps it at 30 and adds the label `to_ids:false`. `threat_level_id` is a
//! severity, not a confidence: it becomes a label (`misp:threat-level=high`, …).
//!
//! An attribute without `to_ids` counts as `to_ids: true` (MISP's default for indicator
//! types). Times: the attribute's `first_seen`/`last_seen`, else its `timestamp` (last edit),
//! else its object's `first_seen`, else the event `date`. `deleted: true` imports the
//! observation as revoked. Proposals (`ShadowAttribute`) are not the author's statement and
//! are not read; they stay in the event's context object.

use rampart_model::{ContextObject, Indicator, IndicatorKind, Observation, Timestamp};
use serde_json::{Map, Value};

use super::tags::Layer;
use super::types::{Mapping, Part, mapping};
use super::{MispStats, Rejection, Sink};

/// Confidence of `to_ids: false` attributes, at most.
pub const NOT_FOR_IDS_CONFIDENCE: u8 = 30;
/// The label of `to_ids: false` attributes.
pub const NOT_FOR_IDS_LABEL: &str = "to_ids:false";

/// Sends what events and attributes carry to a sink, counting as it goes.
pub(crate) struct Walker<'s> {
    pub sink: &'s mut dyn Sink,
    pub stats: MispStats,
}

/// What an attribute inherits from its event (and object).
struct Scope<'a> {
    /// How attributes without a uuid are named: `event <uuid>` or `event #N`.
    event_reference: &'a str,
    layer: Layer,
    confidence: Option<u8>,
    /// Event labels that are not tags (the threat level).
    extra_labels: &'a [String],
    /// The event `date`, or the object's `first_seen`, when an attribute has no time of its own.
    default_time: Option<Timestamp>,
}

impl Walker<'_> {
    /// Reads one event object (the inside of `{"Event": …}`).
    pub fn event(&mut self, event: Value) {
        self.stats.events += 1;
        let Value::Object(map) = event else {
            self.stats.rejected_documents += 1;
            self.sink.reject(Rejection::new(
                format!("event #{}", self.stats.events),
                "event is not a JSON object",
            ));
            return;
        };
        let uuid = text(&map, "uuid").map(str::to_owned);
        let event_reference = match &uuid {
            Some(uuid) => format!("event {uuid}"),
            None => format!("event #{}", self.stats.events),
        };
        let layer = Layer::of(&map);
        let confidence = layer
            .certainty
            .or_else(|| analysis_confidence(map.get("analysis")));
        let extra_labels: Vec<String> = threat_level_label(map.get("threat_level_id"))
            .into_iter()
            .collect();
        let default_time = map.get("date").and_then(date_time);
        let scope = Scope {
            event_reference: &event_reference,
            layer,
            confidence,
            extra_labels: &extra_labels,
            default_time,
        };

        let mut index = 0usize;
        if let Some(Value::Array(attributes)) = map.get("Attribute") {
            for attribute in attributes {
                index += 1;
                self.attribute(attribute, &scope, index);
            }
        }
        if let Some(Value::Array(objects)) = map.get("Object") {
            for object in objects {
                let Some(Value::Array(attributes)) = object.get("Attribute") else {
                    continue;
                };
                let object_map = object.as_object();
                let object_layer = object_map.map(Layer::of).unwrap_or_default();
                let object_scope = Scope {
                    event_reference: scope.event_reference,
                    confidence: object_layer.certainty.or(scope.confidence),
                    layer: scope.layer.merged(&object_layer),
                    extra_labels: scope.extra_labels,
                    default_time: object
                        .get("first_seen")
                        .and_then(any_time)
                        .or(scope.default_time),
                };
                for attribute in attributes {
                    index += 1;
                    self.attribute(attribute, &object_scope, index);
                }
            }
        }

        if let Some(uuid) = uuid {
            let modified = map.get("timestamp").and_then(epoch_seconds);
            let name = text(&map, "info").map(str::to_owned);
            let tlp = scope.layer.tlp;
            self.sink.object(ContextObject {
                id: uuid,
                object_type: "misp-event".into(),
                name,
                attack_id: None,
                modified,
                revoked: false,
                tlp,
                body: Value::Object(map),
            });
        }
    }

    /// Reads an attribute that came without its event (attribute restSearch output). Its
    /// `Tag` list holds the event's tags too when the search asked for `includeEventTags`, and
    /// its `Event` member (with `includeContext`) gives the event's uuid, date, analysis and
    /// threat level, read as for a whole event.
    pub fn standalone_attribute(&mut self, attribute: &Value) {
        let event = attribute.get("Event");
        let event_field = |key: &str| event.and_then(|e| e.get(key));
        let event_reference = match event_field("uuid").and_then(Value::as_str) {
            Some(uuid) => format!("event {uuid}"),
            None => "attribute".to_owned(),
        };
        let extra_labels: Vec<String> = threat_level_label(event_field("threat_level_id"))
            .into_iter()
            .collect();
        let scope = Scope {
            event_reference: &event_reference,
            layer: Layer::default(),
            confidence: analysis_confidence(event_field("analysis")),
            extra_labels: &extra_labels,
            default_time: event_field("date").and_then(date_time),
        };
        self.stats.standalone += 1;
        let index = self.stats.standalone as usize;
        self.attribute(attribute, &scope, index);
    }

    fn attribute(&mut self, attribute: &Value, scope: &Scope<'_>, index: usize) {
        self.stats.attributes += 1;
        let map = attribute.as_object();
        let reference = map.and_then(|m| text(m, "uuid")).map_or_else(
            || format!("{} attribute {index}", scope.event_reference),
            str::to_owned,
        );
        let Some(map) = map else {
            self.reject(reference, "attribute is not a JSON object".into());
            return;
        };
        let Some(misp_type) = text(map, "type") else {
            self.reject(reference, "attribute has no type".into());
            return;
        };
        let (value_mapping, direction, type_label) = mapping(misp_type);
        if value_mapping == Mapping::Skip {
            self.stats.skipped += 1;
            return;
        }
        let Some(value) = text(map, "value") else {
            self.reject(
                reference,
                format!("{misp_type} attribute has no string value"),
            );
            return;
        };
        let parts = match read_value(value_mapping, value) {
            Ok(parts) => parts,
            Err(reason) => {
                self.reject(reference, format!("{misp_type} {value:?}: {reason}"));
                return;
            }
        };
        if parts.indicators.is_empty() {
            // A path-only `uri`, or a file name waiting for its hash: nothing to match on.
            self.stats.skipped += 1;
            return;
        }

        let own_layer = Layer::of(map);
        let layer = scope.layer.merged(&own_layer);
        let mut confidence = own_layer.certainty.or(scope.confidence);
        let mut labels = layer.labels;
        labels.extend(scope.extra_labels.iter().cloned());
        if let Some(label) = type_label {
            labels.push(label.to_owned());
        }
        if !flag(map.get("to_ids"), true) {
            confidence =
                Some(confidence.map_or(NOT_FOR_IDS_CONFIDENCE, |c| c.min(NOT_FOR_IDS_CONFIDENCE)));
            labels.push(NOT_FOR_IDS_LABEL.to_owned());
        }
        let own_time = map
            .get("timestamp")
            .and_then(epoch_seconds)
            .or(scope.default_time);
        let first_seen = map.get("first_seen").and_then(any_time).or(own_time);
        let last_seen = map.get("last_seen").and_then(any_time).or(own_time);
        let revoked = flag(map.get("deleted"), false);

        self.stats.indicator_attributes += 1;
        for indicator in parts.indicators {
            self.stats.observations += 1;
            let mut observation = Observation::new(indicator, reference.clone());
            observation.first_seen = first_seen;
            observation.last_seen = last_seen;
            observation.confidence = confidence;
            observation.tlp = layer.tlp;
            observation.labels = labels.clone();
            observation.techniques = layer.techniques.clone();
            observation.threats = layer.threats.clone();
            observation.revoked = revoked;
            observation.direction = direction;
            observation.port = parts.port;
            self.sink.observation(observation);
        }
    }

    fn reject(&mut self, reference: String, reason: String) {
        self.stats.rejected += 1;
        self.sink.reject(Rejection::new(reference, reason));
    }
}

/// The indicators (and port) in one attribute value.
struct Parts {
    indicators: Vec<Indicator>,
    port: Option<u16>,
}

/// Splits and canonicalises a value; any bad part rejects the whole attribute, so an
/// attribute is counted exactly once (imported, skipped or rejected).
fn read_value(value_mapping: Mapping, value: &str) -> Result<Parts, String> {
    let mut parts = Parts {
        indicators: Vec::new(),
        port: None,
    };
    match value_mapping {
        Mapping::Skip => {}
        Mapping::Whole(part) => read_part(part, value, &mut parts)?,
        Mapping::Pair(left, right) => match value.rsplit_once('|') {
            Some((left_text, right_text)) => {
                read_part(left, left_text, &mut parts)?;
                read_part(right, right_text, &mut parts)?;
            }
            // A `malware-sample` or `filename|…` not yet saved by MISP holds only the file name
            // (MISP appends the hash on upload), or only a hash: take the hash if it is one.
            None if left == Part::Ignored => {
                let mut hash_only = Parts {
                    indicators: Vec::new(),
                    port: None,
                };
                if read_part(right, value, &mut hash_only).is_ok() {
                    parts = hash_only;
                }
            }
            None => return Err("composite value has no '|' separator".to_owned()),
        },
    }
    Ok(parts)
}

fn read_part(part: Part, text: &str, parts: &mut Parts) -> Result<(), String> {
    let trimmed = text.trim();
    let indicator = match part {
        Part::Ignored => return Ok(()),
        Part::Port => {
            let port = trimmed
                .parse::<u16>()
                .map_err(|_| format!("port {trimmed:?} is not a number from 0 to 65535"))?;
            parts.port = Some(port);
            return Ok(());
        }
        Part::AbsoluteUrl if !trimmed.contains("://") => return Ok(()),
        Part::AbsoluteUrl => Indicator::parse(IndicatorKind::Url, trimmed),
        Part::Kind(kind) => Indicator::parse(kind, trimmed),
        Part::Ip => {
            let kind = if trimmed.contains('/') {
                IndicatorKind::Cidr
            } else if trimmed.contains(':') {
                IndicatorKind::Ipv6
            } else {
                IndicatorKind::Ipv4
            };
            Indicator::parse(kind, trimmed)
        }
    };
    parts
        .indicators
        .push(indicator.map_err(|err| err.to_string())?);
    Ok(())
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

/// A MISP boolean: JSON `true`/`false`, `0`/`1`, or the strings `"0"`/`"1"`/`"true"`/`"false"`.
fn flag(value: Option<&Value>, default: bool) -> bool {
    match value {
        Some(Value::Bool(flag)) => *flag,
        Some(Value::Number(number)) => number.as_i64().map_or(default, |n| n != 0),
        Some(Value::String(text)) => match text.trim() {
            "1" | "true" | "True" => true,
            "0" | "false" | "False" => false,
            _ => default,
        },
        _ => default,
    }
}

/// A small MISP enumeration (`"2"` or `2`).
fn small_number(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn analysis_confidence(value: Option<&Value>) -> Option<u8> {
    match small_number(value)? {
        0 => Some(50),
        1 => Some(65),
        2 => Some(80),
        _ => None,
    }
}

fn threat_level_label(value: Option<&Value>) -> Option<String> {
    let level = match small_number(value)? {
        1 => "high",
        2 => "medium",
        3 => "low",
        4 => "undefined",
        _ => return None,
    };
    Some(format!("misp:threat-level={level}"))
}

/// Epoch seconds as a number or a string of digits; `0` means "never" in MISP.
fn epoch_seconds(value: &Value) -> Option<Timestamp> {
    let seconds = match value {
        Value::Number(number) => number.as_i64()?,
        Value::String(text) => text.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    if seconds <= 0 {
        return None;
    }
    Timestamp::from_second(seconds).ok()
}

/// A `YYYY-MM-DD` date, as midnight UTC.
fn date_time(value: &Value) -> Option<Timestamp> {
    let date: jiff::civil::Date = value.as_str()?.trim().parse().ok()?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
        .ok()
}

/// An attribute's `first_seen`/`last_seen`: ISO 8601 with offset (what MISP writes), a civil
/// date-time taken as UTC, a date, or epoch seconds (microseconds when implausibly large, as
/// MISP stores them internally).
fn any_time(value: &Value) -> Option<Timestamp> {
    if let Value::String(text) = value {
        let trimmed = text.trim();
        if let Ok(timestamp) = trimmed.parse::<Timestamp>() {
            return Some(timestamp);
        }
        if let Ok(civil) = trimmed.parse::<jiff::civil::DateTime>() {
            return jiff::tz::TimeZone::UTC.to_timestamp(civil).ok();
        }
        if let Some(timestamp) = date_time(value) {
            return Some(timestamp);
        }
    }
    let number = match value {
        Value::Number(number) => number.as_i64()?,
        Value::String(text) => text.trim().parse::<i64>().ok()?,
        _ => return None,
    };
    if number <= 0 {
        return None;
    }
    if number > 100_000_000_000 {
        return Timestamp::from_microsecond(number).ok();
    }
    Timestamp::from_second(number).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_come_in_several_spellings() {
        let expected: Timestamp = "2019-06-25T15:40:00Z".parse().unwrap();
        assert_eq!(
            any_time(&json!("2019-06-25T15:40:00.000000+00:00")),
            Some(expected)
        );
        assert_eq!(
            any_time(&json!("2019-06-25T17:40:00+02:00")),
            Some(expected)
        );
        assert_eq!(any_time(&json!("2019-06-25 15:40:00")), Some(expected));
        assert_eq!(any_time(&json!(1561477200)), Some(expected));
        assert_eq!(any_time(&json!("1561477200000000")), Some(expected));
        assert_eq!(any_time(&json!(null)), None);
        assert_eq!(epoch_seconds(&json!("0")), None);
        assert_eq!(
            date_time(&json!("2014-12-10")),
            Some("2014-12-10T00:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn composite_values_split_and_fail_as_a_whole() {
        let parts = read_value(mapping("ip-dst|port").0, "2001:db8::1|443").unwrap();
        assert_eq!(parts.indicators[0].value(), "2001:db8::1");
        assert_eq!(parts.port, Some(443));
        let parts = read_value(mapping("domain|ip").0, "evil.example|198.51.100.0/24").unwrap();
        let kinds: Vec<_> = parts.indicators.iter().map(Indicator::kind).collect();
        assert_eq!(kinds, [IndicatorKind::Domain, IndicatorKind::Cidr]);
        assert!(read_value(mapping("domain|ip").0, "evil.example|not-an-ip").is_err());
        assert!(read_value(mapping("ip-src|port").0, "203.0.113.1|99999").is_err());
        assert!(read_value(mapping("ip-src|port").0, "203.0.113.1").is_err());
        assert!(
            read_value(mapping("uri").0, "/gate.php")
                .unwrap()
                .indicators
                .is_empty()
        );
        assert!(
            read_value(mapping("malware-sample").0, "bar.exe")
                .unwrap()
                .indicators
                .is_empty()
        );
        let hash_only = read_value(
            mapping("filename|md5").0,
            "D41D8CD98F00B204E9800998ECF8427E",
        )
        .unwrap();
        assert_eq!(
            hash_only.indicators[0].value(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
    }

    #[test]
    fn flags_accept_misp_spellings() {
        assert!(!flag(Some(&json!("0")), true));
        assert!(flag(Some(&json!(1)), false));
        assert!(!flag(Some(&json!(false)), true));
        assert!(flag(None, true));
    }
}
