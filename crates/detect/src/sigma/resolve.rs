//! Finding a program's fields in an event by walking the event, not by asking for each field.
//!
//! A program may read a hundred fields while an event has twenty. Looking each field up by
//! its paths costs a few hash probes per path whether or not the field is there; instead the
//! paths are split once, at build time, into a *parent* (`Event.EventData`, `Event.System`,
//! the event's top level, …) and a plain key. Per event each parent is resolved once, its
//! entries are walked, and each key is looked up in one table that says which fields (and at
//! which rank of their path list) it feeds. The earliest path of a field wins, as in
//! [`super::mapping::resolve_path`] over the path list in order.
//!
//! Keys with dots in them (Zeek's `id.orig_h`, dotted ECS names) are resolved path by path,
//! with the usual nested-or-flat lookup. A key that spans a parent boundary (a top-level key
//! `Event.EventData.Image` beside a nested `Event` object) is not seen when the parent exists;
//! when the parent does not resolve, the whole path is looked up as before, which keeps flat
//! ECS documents working.

use std::collections::HashMap;

use foldhash::fast::RandomState;
use serde_json::{Map, Value};

use super::mapping::resolve_path;
use crate::event::lookup;

/// A parent object paths are relative to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Parent {
    Root,
    /// The object at a dotted path.
    Path(String),
    /// Every child object of the object at a path (a `*` segment); the first child holding
    /// the key wins.
    Children(String),
}

/// One path of one field, kept whole for the fallbacks.
struct Slow {
    field: u32,
    rank: u8,
    path: String,
}

struct ParentPlan {
    parent: Parent,
    /// Plain keys under this parent: which (field, rank) each one feeds.
    keys: HashMap<Box<str>, Vec<(u32, u8)>, RandomState>,
    /// The full paths through this parent, looked up whole when the parent is not there (a
    /// document written flat).
    fallback: Vec<Slow>,
}

/// How to find every field of one program in an event.
pub(crate) struct Resolver {
    parents: Vec<ParentPlan>,
    /// Paths with dotted keys, looked up one by one.
    slow: Vec<Slow>,
    fields: usize,
}

/// What one event holds for the program's fields: per field, the rank of the path that found
/// it and the value there.
pub(crate) struct Found<'e> {
    pub values: Vec<Option<&'e Value>>,
    ranks: Vec<u8>,
    /// Fields that got a value, in the order found.
    pub present: Vec<u32>,
}

impl Found<'_> {
    fn offer<'e>(found: &mut Found<'e>, field: u32, rank: u8, value: &'e Value) {
        let slot = field as usize;
        if rank < found.ranks[slot] {
            if found.ranks[slot] == u8::MAX {
                found.present.push(field);
            }
            found.ranks[slot] = rank;
            found.values[slot] = Some(value);
        }
    }
}

fn split(path: &str) -> (Parent, &str) {
    if let Some((head, rest)) = path.split_once(".*.") {
        return (Parent::Children(head.to_string()), rest);
    }
    match path.rsplit_once('.') {
        Some((head, key)) => (Parent::Path(head.to_string()), key),
        None => (Parent::Root, path),
    }
}

impl Resolver {
    /// `paths[field]` lists, in order, where the field is looked for.
    pub(crate) fn build(paths: &[Vec<String>]) -> Resolver {
        let mut parents: Vec<ParentPlan> = Vec::new();
        let mut slow = Vec::new();
        for (field, list) in paths.iter().enumerate() {
            for (rank, path) in list.iter().enumerate().take(u8::MAX as usize - 1) {
                let (field, rank) = (field as u32, rank as u8);
                let whole = || Slow {
                    field,
                    rank,
                    path: path.clone(),
                };
                let (parent, key) = split(path);
                if key.contains('.') || key.contains('*') || key.is_empty() {
                    slow.push(whole());
                    continue;
                }
                let index = match parents.iter().position(|p| p.parent == parent) {
                    Some(index) => index,
                    None => {
                        parents.push(ParentPlan {
                            parent,
                            keys: HashMap::default(),
                            fallback: Vec::new(),
                        });
                        parents.len() - 1
                    }
                };
                let plan = &mut parents[index];
                plan.keys.entry(key.into()).or_default().push((field, rank));
                plan.fallback.push(whole());
            }
        }
        Resolver {
            parents,
            slow,
            fields: paths.len(),
        }
    }

    /// Finds every field of the program in `fields`.
    pub(crate) fn resolve<'e>(&self, fields: &'e Map<String, Value>) -> Found<'e> {
        let mut found = Found {
            values: vec![None; self.fields],
            ranks: vec![u8::MAX; self.fields],
            present: Vec::new(),
        };
        for plan in &self.parents {
            match &plan.parent {
                Parent::Root => walk(plan, fields, &mut found),
                Parent::Path(path) => match lookup(fields, path) {
                    Some(Value::Object(object)) => walk(plan, object, &mut found),
                    _ => {
                        for slow in &plan.fallback {
                            if slow.rank < found.ranks[slow.field as usize]
                                && let Some(value) = resolve_path(fields, &slow.path)
                            {
                                Found::offer(&mut found, slow.field, slow.rank, value);
                            }
                        }
                    }
                },
                Parent::Children(path) => {
                    if let Some(Value::Object(object)) = lookup(fields, path) {
                        for child in object.values() {
                            if let Value::Object(child) = child {
                                walk(plan, child, &mut found);
                            }
                        }
                    }
                }
            }
        }
        for slow in &self.slow {
            if slow.rank < found.ranks[slow.field as usize]
                && let Some(value) = resolve_path(fields, &slow.path)
            {
                Found::offer(&mut found, slow.field, slow.rank, value);
            }
        }
        found
    }
}

/// Offers every entry of `object` whose key the plan knows. Within one walk an earlier
/// (better-ranked) path already set stays; a later child of a `*` parent does not replace an
/// earlier one at the same rank.
fn walk<'e>(plan: &ParentPlan, object: &'e Map<String, Value>, found: &mut Found<'e>) {
    if object.len() <= plan.keys.len() {
        for (key, value) in object {
            if let Some(targets) = plan.keys.get(key.as_str()) {
                for (field, rank) in targets {
                    Found::offer(found, *field, *rank, value);
                }
            }
        }
    } else {
        // A wide object and few keys: probing the object is cheaper.
        for (key, targets) in &plan.keys {
            if let Some(value) = crate::event::get_key(object, key) {
                for (field, rank) in targets {
                    Found::offer(found, *field, *rank, value);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(list: &[&[&str]]) -> Vec<Vec<String>> {
        list.iter()
            .map(|paths| paths.iter().map(|p| p.to_string()).collect())
            .collect()
    }

    fn resolved(resolver: &Resolver, event: &Value) -> Vec<Option<Value>> {
        let fields = event.as_object().cloned().unwrap_or_default();
        let found = resolver.resolve(&fields);
        found.values.iter().map(|v| v.cloned()).collect()
    }

    #[test]
    fn the_first_path_of_a_field_wins_like_a_lookup_in_order() {
        let fields = paths(&[
            &[
                "Event.EventData.Image",
                "Event.UserData.*.Image",
                "Event.System.Image",
            ],
            &[
                "Event.EventData.Name",
                "Event.UserData.*.Name",
                "Event.System.Name",
            ],
            &["Event.System.Provider.#attributes.Name"],
            &["id.orig_h"],
            &["Absent"],
        ]);
        let resolver = Resolver::build(&fields);
        let event = json!({
            "Event": {
                "System": {"Image": "sys", "Name": "system", "Provider": {"#attributes": {"Name": "P"}}},
                "UserData": {"A": {"Other": 1}, "B": {"Name": "first"}, "C": {"Name": "second"}},
                "EventData": {"Image": "data"}
            },
            "id.orig_h": "10.0.0.1"
        });
        assert_eq!(
            resolved(&resolver, &event),
            vec![
                Some(json!("data")),
                Some(json!("first")),
                Some(json!("P")),
                Some(json!("10.0.0.1")),
                None
            ]
        );
        // Same answers as looking each path up in order.
        let event_fields = event.as_object().cloned().unwrap_or_default();
        for (index, list) in fields.iter().enumerate() {
            let direct = list.iter().find_map(|p| resolve_path(&event_fields, p));
            assert_eq!(direct.cloned(), resolved(&resolver, &event)[index]);
        }
    }

    #[test]
    fn a_flat_document_is_found_when_the_parent_object_is_missing() {
        let resolver =
            Resolver::build(&paths(&[&["winlog.event_data.CommandLine", "CommandLine"]]));
        let flat = json!({"winlog.event_data.CommandLine": "whoami", "CommandLine": "other"});
        assert_eq!(resolved(&resolver, &flat), vec![Some(json!("whoami"))]);
        let nested = json!({"id": {"orig_h": "x"}, "CommandLine": "cmd"});
        assert_eq!(resolved(&resolver, &nested), vec![Some(json!("cmd"))]);
        let dotted = Resolver::build(&paths(&[&["id.orig_h"]]));
        assert_eq!(resolved(&dotted, &nested), vec![Some(json!("x"))]);
    }
}
