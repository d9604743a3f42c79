//! A program: the rules one kind of event (layout, channel, event id) may match, with every
//! field they read compiled once — one case-insensitive and one cased Aho-Corasick automaton
//! per field over all literals of all those rules, and one regex set per field. Evaluating an
//! event resolves each field once, runs its automata, marks the atoms that hit, and then reads
//! each rule's tree over those marks.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::RegexSet;
use serde_json::Value;

use super::compile::{Anchor, Atom, Compare, Test, TimePart};
use super::mapping::{Mapping, resolve_path, scalar_text};
use crate::event::Event;

/// One literal automaton and, per pattern, the atoms (with anchors) it stands for.
struct Literals {
    automaton: AhoCorasick,
    owners: Vec<Vec<(u32, Anchor)>>,
}

struct FieldProgram {
    /// `None` for keyword searches over every string of the event.
    field: Option<String>,
    /// Paths tried in order for this field in this layout.
    paths: Vec<String>,
    folded: Option<Literals>,
    cased: Option<Literals>,
    regexes: Option<(Regexes, Vec<u32>)>,
    /// Atoms tested one by one: empty literals, null/exists, numbers, CIDR, field refs, time.
    direct: Vec<u32>,
}

/// All regexes of a field in one set; one by one if the set would exceed its size limit.
enum Regexes {
    Set(RegexSet),
    Each(Vec<regex::Regex>),
}

pub(crate) struct Program {
    pub rules: Vec<u32>,
    fields: Vec<FieldProgram>,
}

fn build_literals(patterns: HashMap<Vec<u8>, Vec<(u32, Anchor)>>) -> Option<Literals> {
    if patterns.is_empty() {
        return None;
    }
    let mut keys: Vec<Vec<u8>> = Vec::with_capacity(patterns.len());
    let mut owners = Vec::with_capacity(patterns.len());
    let mut sorted: Vec<_> = patterns.into_iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (pattern, atoms) in sorted {
        keys.push(pattern);
        owners.push(atoms);
    }
    // Building fails only past the automaton's size limits (billions of states), far beyond
    // any rule set; say so loudly rather than drop literals quietly.
    let automaton = match AhoCorasickBuilder::new()
        .match_kind(MatchKind::Standard)
        .build(&keys)
    {
        Ok(automaton) => automaton,
        Err(error) => {
            tracing::error!(%error, patterns = keys.len(), "sigma literal automaton too large");
            return None;
        }
    };
    Some(Literals { automaton, owners })
}

/// Lowercases for case-insensitive matching: ASCII stays in place when already lower.
pub(crate) fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        }
    } else {
        Cow::Owned(text.to_lowercase())
    }
}

fn fold_bytes(bytes: &[u8]) -> Vec<u8> {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_lowercase().into_bytes(),
        Err(_) => bytes.to_ascii_lowercase(),
    }
}

impl Program {
    pub(crate) fn build(
        rules: Vec<u32>,
        rule_atoms: &[Vec<u32>],
        atoms: &[Atom],
        mapping: &Mapping,
        layout: usize,
    ) -> Program {
        let mut by_field: HashMap<Option<String>, Vec<u32>> = HashMap::new();
        let mut seen = vec![false; atoms.len()];
        for rule in &rules {
            for atom in &rule_atoms[*rule as usize] {
                if !std::mem::replace(&mut seen[*atom as usize], true) {
                    by_field
                        .entry(atoms[*atom as usize].field.clone())
                        .or_default()
                        .push(*atom);
                }
            }
        }
        let mut fields = Vec::new();
        let mut names: Vec<Option<String>> = by_field.keys().cloned().collect();
        names.sort();
        for name in names {
            let ids = &by_field[&name];
            let mut folded: HashMap<Vec<u8>, Vec<(u32, Anchor)>> = HashMap::new();
            let mut cased: HashMap<Vec<u8>, Vec<(u32, Anchor)>> = HashMap::new();
            let mut regexes = Vec::new();
            let mut regex_atoms = Vec::new();
            let mut direct = Vec::new();
            for id in ids {
                match &atoms[*id as usize].test {
                    Test::Literal {
                        anchor,
                        cased: is_cased,
                        bytes,
                    } if !bytes.is_empty() => {
                        if *is_cased {
                            cased.entry(bytes.clone()).or_default().push((*id, *anchor));
                        } else {
                            folded
                                .entry(fold_bytes(bytes))
                                .or_default()
                                .push((*id, *anchor));
                        }
                    }
                    Test::Regex(pattern) => {
                        regexes.push(pattern.clone());
                        regex_atoms.push(*id);
                    }
                    _ => direct.push(*id),
                }
            }
            let regexes = if regexes.is_empty() {
                None
            } else {
                let set = regex::RegexSetBuilder::new(&regexes)
                    .size_limit(256 << 20)
                    .dfa_size_limit(64 << 20)
                    .build();
                let regexes = match set {
                    Ok(set) => Regexes::Set(set),
                    // Each pattern compiled alone when its rule was compiled.
                    Err(_) => Regexes::Each(
                        regexes
                            .iter()
                            .filter_map(|p| regex::Regex::new(p).ok())
                            .collect(),
                    ),
                };
                Some((regexes, regex_atoms))
            };
            let paths = match &name {
                Some(field) => mapping.field_paths(layout, field),
                None => Vec::new(),
            };
            fields.push(FieldProgram {
                field: name,
                paths,
                folded: build_literals(folded),
                cased: build_literals(cased),
                regexes,
                direct,
            });
        }
        Program { rules, fields }
    }

    /// Marks in `hits` (with `stamp`) every atom of this program the event satisfies.
    pub(crate) fn mark(
        &self,
        event: &Event,
        atoms: &[Atom],
        mapping: &Mapping,
        layout: usize,
        hits: &mut [u32],
        stamp: u32,
    ) {
        let mut values: Vec<Cow<'_, str>> = Vec::new();
        for field in &self.fields {
            values.clear();
            // `present`: the field holds a value; `null`: it is there, holding JSON null.
            let mut null = false;
            let present = match &field.field {
                Some(_) => {
                    let found = field
                        .paths
                        .iter()
                        .find_map(|p| resolve_path(&event.fields, p));
                    match found {
                        None => false,
                        Some(Value::Null) => {
                            null = true;
                            false
                        }
                        Some(value) => {
                            collect_scalars(value, &mut values, 2);
                            true
                        }
                    }
                }
                None => {
                    for value in event.fields.values() {
                        collect_strings(value, &mut values, 64);
                    }
                    !values.is_empty()
                }
            };
            for value in &values {
                if let Some(literals) = &field.folded {
                    let folded = fold(value);
                    mark_literals(literals, folded.as_bytes(), hits, stamp);
                }
                if let Some(literals) = &field.cased {
                    mark_literals(literals, value.as_bytes(), hits, stamp);
                }
                match &field.regexes {
                    Some((Regexes::Set(set), ids)) => {
                        for index in set.matches(value).iter() {
                            hits[ids[index] as usize] = stamp;
                        }
                    }
                    Some((Regexes::Each(each), ids)) => {
                        for (regex, id) in each.iter().zip(ids) {
                            if regex.is_match(value) {
                                hits[*id as usize] = stamp;
                            }
                        }
                    }
                    None => {}
                }
            }
            for id in &field.direct {
                if direct_test(
                    &atoms[*id as usize].test,
                    present,
                    null,
                    &values,
                    event,
                    mapping,
                    layout,
                ) {
                    hits[*id as usize] = stamp;
                }
            }
        }
    }
}

fn mark_literals(literals: &Literals, haystack: &[u8], hits: &mut [u32], stamp: u32) {
    for found in literals.automaton.find_overlapping_iter(haystack) {
        let at_start = found.start() == 0;
        let at_end = found.end() == haystack.len();
        for (atom, anchor) in &literals.owners[found.pattern().as_usize()] {
            let fits = match anchor {
                Anchor::Contains => true,
                Anchor::StartsWith => at_start,
                Anchor::EndsWith => at_end,
                Anchor::Equals => at_start && at_end,
            };
            if fits {
                hits[*atom as usize] = stamp;
            }
        }
    }
}

fn collect_scalars<'a>(value: &'a Value, out: &mut Vec<Cow<'a, str>>, depth: usize) {
    match value {
        Value::Array(items) if depth > 0 => {
            for item in items {
                collect_scalars(item, out, depth - 1);
            }
        }
        other => {
            if let Some(text) = scalar_text(other) {
                out.push(text);
            }
        }
    }
}

/// Every string in the event, for keyword searches (depth-bounded against hostile nesting).
fn collect_strings<'a>(value: &'a Value, out: &mut Vec<Cow<'a, str>>, depth: usize) {
    if depth == 0 {
        return;
    }
    match value {
        Value::String(text) => out.push(Cow::Borrowed(text.as_str())),
        Value::Array(items) => items
            .iter()
            .for_each(|v| collect_strings(v, out, depth - 1)),
        Value::Object(object) => object
            .values()
            .for_each(|v| collect_strings(v, out, depth - 1)),
        _ => {}
    }
}

fn compare(compare: Compare, left: f64, right: f64) -> bool {
    match compare {
        Compare::Eq => left == right,
        Compare::Gt => left > right,
        Compare::Gte => left >= right,
        Compare::Lt => left < right,
        Compare::Lte => left <= right,
    }
}

fn direct_test(
    test: &Test,
    present: bool,
    null: bool,
    values: &[Cow<'_, str>],
    event: &Event,
    mapping: &Mapping,
    layout: usize,
) -> bool {
    match test {
        Test::Null => !present,
        // The specification's modifier appendix: exists "only verifies the presence of a
        // field, not its value, be it empty or null".
        Test::Exists(expected) => (present || null) == *expected,
        Test::Literal { anchor, .. } => {
            // Only empty literals come here: `''` equals an empty value; an empty
            // contains/startswith/endswith holds for any value.
            values
                .iter()
                .any(|v| *anchor != Anchor::Equals || v.is_empty())
        }
        Test::Number(op, number) => values
            .iter()
            .filter_map(|v| v.trim().parse::<f64>().ok())
            .any(|v| compare(*op, v, *number)),
        Test::Cidr(net) => values
            .iter()
            .filter_map(|v| v.trim().parse::<IpAddr>().ok())
            .any(|ip| net.contains(&ip)),
        Test::Time(part, op, number) => values
            .iter()
            .filter_map(|v| time_part(v, *part))
            .any(|v| compare(*op, v as f64, *number as f64)),
        Test::FieldRef {
            other,
            anchor,
            cased,
        } => {
            let paths = mapping.field_paths(layout, other);
            let Some(found) = paths.iter().find_map(|p| resolve_path(&event.fields, p)) else {
                return false;
            };
            let Some(reference) = scalar_text(found) else {
                return false;
            };
            let reference = if *cased {
                reference
            } else {
                Cow::Owned(fold(&reference).into_owned())
            };
            values.iter().any(|value| {
                let value = if *cased { value.clone() } else { fold(value) };
                match anchor {
                    Anchor::Equals => value == reference,
                    Anchor::Contains => value.contains(reference.as_ref()),
                    Anchor::StartsWith => value.starts_with(reference.as_ref()),
                    Anchor::EndsWith => value.ends_with(reference.as_ref()),
                }
            })
        }
        Test::Regex(_) => false,
    }
}

/// A part of a timestamp written as RFC 3339 or `YYYY-MM-DD HH:MM:SS[.fff]` (taken as UTC).
pub(crate) fn time_part(text: &str, part: TimePart) -> Option<i64> {
    let text = text.trim();
    let civil = if let Ok(timestamp) = text.parse::<jiff::Timestamp>() {
        jiff::tz::TimeZone::UTC.to_datetime(timestamp)
    } else {
        text.replacen(' ', "T", 1)
            .parse::<jiff::civil::DateTime>()
            .ok()?
    };
    Some(match part {
        TimePart::Minute => civil.minute() as i64,
        TimePart::Hour => civil.hour() as i64,
        TimePart::Day => civil.day() as i64,
        TimePart::Week => civil.date().iso_week_date().week() as i64,
        TimePart::Month => civil.month() as i64,
        TimePart::Year => civil.year() as i64,
    })
}
