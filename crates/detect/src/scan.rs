//! Pulling a few known fields out of a JSON line without building the document.
//!
//! Indicator matching over JSON lines only needs the handful of fields a mapping names (IPs,
//! domains, URLs, hashes, addresses). A [`FieldScanner`] walks the line with serde_json's
//! streaming deserializer, descends only into objects on a mapped path, skips everything else
//! as `IgnoredAny`, and hands each mapped string (borrowed from the line when it has no
//! escapes) to a callback — so the cost stays close to what validating the line costs.
//!
//! Paths are dotted (`source.ip`); an event may spell them nested (`{"source":{"ip":…}}`), flat
//! (`{"source.ip":…}`) or mixed, and all three are found. Arrays of values under a mapped path
//! (ECS `related.ip`) yield each element.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A set of dotted field paths compiled into a trie, each with the caller's index.
#[derive(Debug, Clone, Default)]
pub struct FieldScanner {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// Few children per node, so a linear scan beats hashing every key of every event.
    children: Vec<(Box<str>, u32)>,
    /// The caller's index of the path ending here.
    leaf: Option<u32>,
}

impl FieldScanner {
    /// Compiles `(path, index)` pairs. A path given twice keeps the last index.
    pub fn new<'p>(paths: impl IntoIterator<Item = (&'p str, u32)>) -> FieldScanner {
        let mut scanner = FieldScanner {
            nodes: vec![Node::default()],
        };
        for (path, index) in paths {
            let mut node = 0usize;
            for part in path.split('.') {
                node = match scanner.child(node, part) {
                    Some(child) => child,
                    None => {
                        let child = scanner.nodes.len();
                        scanner.nodes.push(Node::default());
                        scanner.nodes[node]
                            .children
                            .push((part.into(), child as u32));
                        child
                    }
                };
            }
            scanner.nodes[node].leaf = Some(index);
        }
        scanner
    }

    fn child(&self, node: usize, part: &str) -> Option<usize> {
        self.nodes[node]
            .children
            .iter()
            .find(|(name, _)| name.as_ref() == part)
            .map(|(_, child)| *child as usize)
    }

    /// The node reached from `node` by a key that may itself contain dots.
    fn walk(&self, node: usize, key: &str) -> Option<usize> {
        if let Some(child) = self.child(node, key) {
            return Some(child);
        }
        let mut current = node;
        for part in key.split('.') {
            current = self.child(current, part)?;
        }
        Some(current)
    }

    /// Scans one JSON document, calling `found(index, value)` for every string (or number,
    /// as text) at a compiled path. Fails on invalid JSON, with serde_json's line and column.
    pub fn scan<F>(&self, json: &[u8], found: &mut F) -> Result<(), serde_json::Error>
    where
        F: FnMut(u32, &str),
    {
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        NodeSeed {
            scanner: self,
            node: 0,
            found,
        }
        .deserialize(&mut deserializer)?;
        deserializer.end()
    }
}

struct NodeSeed<'s, 'f, F> {
    scanner: &'s FieldScanner,
    node: usize,
    found: &'f mut F,
}

impl<'de, F: FnMut(u32, &str)> DeserializeSeed<'de> for NodeSeed<'_, '_, F> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<F: FnMut(u32, &str)> NodeSeed<'_, '_, F> {
    fn leaf(&mut self, value: &str) {
        if let Some(index) = self.scanner.nodes[self.node].leaf {
            (self.found)(index, value);
        }
    }
}

impl<'de, F: FnMut(u32, &str)> Visitor<'de> for NodeSeed<'_, '_, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match self.scanner.walk(self.node, &key.0) {
                Some(child) => map.next_value_seed(NodeSeed {
                    scanner: self.scanner,
                    node: child,
                    found: &mut *self.found,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(NodeSeed {
                scanner: self.scanner,
                node: self.node,
                found: &mut *self.found,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_str<E: de::Error>(mut self, value: &str) -> Result<(), E> {
        self.leaf(value);
        Ok(())
    }

    fn visit_u64<E: de::Error>(mut self, value: u64) -> Result<(), E> {
        if self.scanner.nodes[self.node].leaf.is_some() {
            self.leaf(&value.to_string());
        }
        Ok(())
    }

    fn visit_i64<E: de::Error>(mut self, value: i64) -> Result<(), E> {
        if self.scanner.nodes[self.node].leaf.is_some() {
            self.leaf(&value.to_string());
        }
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A map key, borrowed from the input unless it had escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(key)))
            }
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(key.to_owned())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(scanner: &FieldScanner, json: &str) -> Vec<(u32, String)> {
        let mut found = Vec::new();
        scanner
            .scan(json.as_bytes(), &mut |index, value: &str| {
                found.push((index, value.to_owned()))
            })
            .expect("valid json");
        found
    }

    #[test]
    fn nested_flat_and_mixed_spellings_are_found() {
        let scanner = FieldScanner::new([("source.ip", 0), ("url.full", 1), ("related.ip", 2)]);
        let nested = r#"{"@timestamp":"x","source":{"ip":"192.0.2.1","port":53},"url":{"full":"http://a.example/"}}"#;
        assert_eq!(
            scan(&scanner, nested),
            [(0, "192.0.2.1".into()), (1, "http://a.example/".into())]
        );
        let flat = r#"{"source.ip":"192.0.2.2","url":{"full":"http://b.example/"}}"#;
        assert_eq!(
            scan(&scanner, flat),
            [(0, "192.0.2.2".into()), (1, "http://b.example/".into())]
        );
        let array = r#"{"related":{"ip":["192.0.2.3","2001:db8::1"]},"other":[{"ip":"x"}]}"#;
        assert_eq!(
            scan(&scanner, array),
            [(2, "192.0.2.3".into()), (2, "2001:db8::1".into())]
        );
    }

    #[test]
    fn escaped_keys_and_values_are_decoded_and_unmapped_values_skipped() {
        let scanner = FieldScanner::new([("dns.question.name", 7)]);
        let json = r#"{"dns":{"question":{"n\u0061me":"ev\u0069l.example","type":"A"}},"message":"dns.question.name"}"#;
        assert_eq!(scan(&scanner, json), [(7, "evil.example".into())]);
        assert!(scan(&scanner, r#"{"dns":{"question":{"name":null}}}"#).is_empty());
        assert!(scan(&scanner, r#"[1,2,{"dns":3}]"#).is_empty());
    }

    #[test]
    fn invalid_json_is_an_error_with_a_position() {
        let scanner = FieldScanner::new([("a", 0)]);
        let mut ignore = |_: u32, _: &str| {};
        let error = scanner
            .scan(br#"{"a": "x", "b": }"#, &mut ignore)
            .expect_err("invalid");
        assert_eq!(error.column(), 17);
        assert!(scanner.scan(br#"{"a":"x"} trailing"#, &mut ignore).is_err());
        assert!(scanner.scan(&[0xff, 0xfe, 0x00], &mut ignore).is_err());
    }
}
