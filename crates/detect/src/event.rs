//! The one event type every decoder produces and every detection reads.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use rampart_model::{EventRef, Locator};

/// One decoded event: its fields as a JSON object, in the layout its source uses (ECS for
/// JSON lines that follow it, `Event.System`/`Event.EventData` for EVTX, Zeek's column names,
/// …). Field mappings, not the decoders, say which of those fields hold what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub reference: EventRef,
    /// The decoder that produced it, with the log type where the format has several:
    /// `jsonl`, `evtx`, `syslog`, `zeek.conn`, `cef`, `apache`, `sshd`, `suricata`, …
    pub format: String,
    /// When it happened, if the input says so.
    pub time: Option<Timestamp>,
    pub fields: Map<String, Value>,
}

impl Event {
    /// The value at a dotted path. A key that itself contains dots (Zeek's `id.orig_h`, ECS
    /// documents written flat) is found as well as the nested form.
    pub fn get(&self, path: &str) -> Option<&Value> {
        lookup(&self.fields, path)
    }

    /// The value at `path` as a string, if it is one.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }
}

/// `object.get(key)`, by a scan of the keys when the object is small: serde_json's map hashes
/// with SipHash, which costs more than comparing the lengths of a dozen keys.
#[inline]
pub fn get_key<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if object.len() <= 16 {
        object
            .iter()
            .find(|(name, _)| name.len() == key.len() && name.as_str() == key)
            .map(|(_, value)| value)
    } else {
        object.get(key)
    }
}

/// Looks a dotted path up in a JSON object, trying the longest literal key first at each level.
pub fn lookup<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = get_key(object, path) {
        return Some(value);
    }
    // Try each split point from the right, so `a.b.c` prefers key `a.b` holding `c` over
    // key `a` holding `b.c` only when `a.b` exists.
    let mut end = path.len();
    while let Some(dot) = path[..end].rfind('.') {
        if let Some(Value::Object(inner)) = get_key(object, &path[..dot])
            && let Some(value) = lookup(inner, &path[dot + 1..])
        {
            return Some(value);
        }
        end = dot;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(fields: Value) -> Event {
        let Value::Object(fields) = fields else {
            panic!("fixture is not an object")
        };
        Event {
            reference: EventRef::line("test.jsonl", 3),
            format: "jsonl".into(),
            time: None,
            fields,
        }
    }

    #[test]
    fn nested_and_flat_dotted_keys_are_both_found() {
        let nested = event(
            json!({"source": {"ip": "10.0.0.1"}, "Event": {"EventData": {"Image": "a.exe"}}}),
        );
        assert_eq!(nested.get_str("source.ip"), Some("10.0.0.1"));
        assert_eq!(nested.get_str("Event.EventData.Image"), Some("a.exe"));
        let flat = event(json!({"id.orig_h": "192.0.2.7", "id": {"resp_h": "198.51.100.1"}}));
        assert_eq!(flat.get_str("id.orig_h"), Some("192.0.2.7"));
        assert_eq!(flat.get_str("id.resp_h"), Some("198.51.100.1"));
        assert_eq!(flat.get("id.missing"), None);
        assert_eq!(flat.get(""), None);
    }
}
