//! The shapes a MISP document comes in, read with serde visitors so that lists of events or
//! attributes are handled one element at a time: only one event's `Value` is ever in memory.
//!
//! - `{"Event": {…}}` and a bare event object;
//! - `{"response": [{"Event": {…}}, …]}` (events restSearch) and a plain list of events;
//! - `{"response": {"Attribute": […]}}` (attributes restSearch) and a single bare attribute.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::Rejection;
use super::event::Walker;

/// Keys of which any one makes an object a (bare) event.
const EVENT_KEYS: &[&str] = &[
    "info",
    "Attribute",
    "Object",
    "ShadowAttribute",
    "EventReport",
    "attribute_count",
    "threat_level_id",
    "analysis",
    "Orgc",
];

/// What a JSON object at document or list level turned out to be.
enum Shape {
    Event(Value),
    Attribute(Value),
    Unknown,
}

fn classify(object: Map<String, Value>) -> Shape {
    if object.get("Event").is_some_and(Value::is_object) {
        let mut object = object;
        return Shape::Event(object.remove("Event").unwrap_or_default());
    }
    // Events have no `type` or `value`; attributes may have `ShadowAttribute` lists.
    let has_text = |key: &str| object.get(key).is_some_and(Value::is_string);
    if has_text("type") && has_text("value") {
        return Shape::Attribute(Value::Object(object));
    }
    if EVENT_KEYS.iter().any(|key| object.contains_key(*key)) {
        return Shape::Event(Value::Object(object));
    }
    Shape::Unknown
}

/// The whole document. A shape that is not MISP at all sets `invalid` and fails the parse.
pub(crate) struct Document<'w, 's> {
    pub walker: &'w mut Walker<'s>,
    pub invalid: &'w mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a MISP event, a list of events, or a restSearch response")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Unknown members are collected until the shape is known: a bare event's `info` or
        // `Tag` may come after its `Attribute` list, and all of it is one event.
        let mut rest = Map::new();
        let mut handled = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "response" if !handled => {
                    map.next_value_seed(Response {
                        walker: &mut *self.walker,
                    })?;
                    handled = true;
                }
                "Event" if !handled => {
                    let event: Value = map.next_value()?;
                    match event {
                        Value::Array(events) => events
                            .into_iter()
                            .for_each(|event| self.walker.event(event)),
                        event => self.walker.event(event),
                    }
                    handled = true;
                }
                _ if handled => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => {
                    let value: Value = map.next_value()?;
                    rest.insert(key, value);
                }
            }
        }
        if handled {
            return Ok(());
        }
        match classify(rest) {
            Shape::Event(event) => self.walker.event(event),
            Shape::Attribute(attribute) => self.walker.standalone_attribute(&attribute),
            Shape::Unknown => {
                let reason = "JSON object is not a MISP event, attribute or restSearch response \
                              (no Event, response, info, Attribute or Object member)";
                *self.invalid = Some(reason.to_owned());
                return Err(de::Error::custom(reason));
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Element {
                walker: &mut *self.walker,
            })?
            .is_some()
        {}
        Ok(())
    }
}

/// One element of a list of events.
struct Element<'w, 's> {
    walker: &'w mut Walker<'s>,
}

impl<'de> DeserializeSeed<'de> for Element<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let value = Value::deserialize(deserializer)?;
        self.walker.stats.elements += 1;
        let element = self.walker.stats.elements;
        match value {
            Value::Object(object) => match classify(object) {
                Shape::Event(event) => self.walker.event(event),
                Shape::Attribute(attribute) => self.walker.standalone_attribute(&attribute),
                Shape::Unknown => {
                    self.walker.stats.rejected_documents += 1;
                    self.walker.sink.reject(Rejection::new(
                        format!("element {element}"),
                        "not a MISP event or attribute",
                    ));
                }
            },
            _ => {
                self.walker.stats.rejected_documents += 1;
                self.walker.sink.reject(Rejection::new(
                    format!("element {element}"),
                    "list element is not a JSON object",
                ));
            }
        }
        Ok(())
    }
}

/// The `response` member: a list of events, or an object with an `Attribute` list.
struct Response<'w, 's> {
    walker: &'w mut Walker<'s>,
}

impl<'de> DeserializeSeed<'de> for Response<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Response<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of events or an object with an Attribute list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(Element {
                walker: &mut *self.walker,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "Attribute" => map.next_value_seed(Attributes {
                    walker: &mut *self.walker,
                })?,
                "Event" => {
                    let event: Value = map.next_value()?;
                    self.walker.event(event);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// An attribute list streamed one attribute at a time.
struct Attributes<'w, 's> {
    walker: &'w mut Walker<'s>,
}

impl<'de> DeserializeSeed<'de> for Attributes<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Attributes<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of attributes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(attribute) = seq.next_element::<Value>()? {
            self.walker.standalone_attribute(&attribute);
        }
        Ok(())
    }
}
