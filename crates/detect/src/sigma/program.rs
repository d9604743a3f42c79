//! A program: the rules one kind of event (layout, channel, event id) may match, with every
//! field they read compiled once — per field, one case-insensitive and one cased
//! [`LiteralIndex`] over all literals of all those rules, and the field's regexes (wildcard
//! ones behind a gate literal). Evaluating an event finds its fields by walking it once
//! ([`Resolver`]), scans each present field's values, marks the atoms that hold, and then reads
//! only the trees of rules one of whose trigger atoms was marked ([`super::prefilter`]).

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::IpAddr;

use regex::RegexSet;
use serde_json::Value;

use super::compile::{Anchor, Atom, Compare, Test, TimePart};
use super::gate;
use super::literals::LiteralIndex;
use super::mapping::{Mapping, resolve_path, scalar_text, unwrap_text};
use super::resolve::Resolver;
use crate::event::Event;

struct FieldProgram {
    /// `None` for keyword searches over every string of the event.
    field: Option<String>,
    /// Paths tried in order for this field in this layout.
    paths: Vec<String>,
    folded: Option<LiteralIndex>,
    cased: Option<LiteralIndex>,
    regexes: Option<(Regexes, Vec<u32>)>,
    /// Regexes run only when their gate literal (a program-local id above every atom id) was
    /// seen in the field, or the value is not ASCII: `(regex, atom, gate)`.
    gated: Vec<(regex::Regex, u32, u32)>,
    /// Atoms tested one by one: empty literals, null/exists, numbers, CIDR, field refs, time.
    direct: Vec<u32>,
    /// Only substring literals without a NUL: the values may be scanned joined by NULs.
    joinable: bool,
}

/// All regexes of a field in one set; one by one if the set would exceed its size limit.
enum Regexes {
    Set(RegexSet),
    Each(Vec<(regex::Regex, u32)>),
}

pub(crate) struct Program {
    pub rules: Vec<u32>,
    /// Atom ids plus this program's regex gates: the size of the marks.
    pub atom_space: usize,
    fields: Vec<FieldProgram>,
    /// Finds the fields (all but the keyword one) in an event.
    resolver: Resolver,
    /// Fields with tests that can hold when the field is absent (null, exists).
    direct_fields: Vec<u32>,
    /// The field standing for keyword searches, if any rule has one.
    keyword_field: Option<usize>,
    /// Rules read for every event: no set of atoms must hold for them to match.
    always: Vec<u32>,
    /// For an atom, the rules it can start (see [`super::prefilter`]).
    triggers: HashMap<u32, Vec<u32>>,
}

/// The event being evaluated and what its atoms are read against.
struct Subject<'a> {
    event: &'a Event,
    atoms: &'a [Atom],
    mapping: &'a Mapping,
    layout: usize,
}

/// Per-thread working memory for one evaluation, reused so an event allocates nothing.
#[derive(Default)]
pub(crate) struct Scratch {
    /// `hits[atom] == stamp` means the atom held for the current event, so nothing needs
    /// clearing between events.
    hits: Vec<u32>,
    /// The atoms marked for the current event, in marking order.
    marked: Vec<u32>,
    /// `started[rule] == stamp` means the rule is already a candidate.
    started: Vec<u32>,
    candidates: Vec<u32>,
    stamp: u32,
    /// The lowercased value being scanned.
    folded: String,
    /// Every string of the event, for keyword searches that can scan them as one.
    joined: String,
}

impl Scratch {
    /// Starts a new event over `atoms` atoms and `rules` rules.
    pub(crate) fn begin(&mut self, atoms: usize, rules: usize) {
        if self.hits.len() < atoms {
            self.hits.resize(atoms, 0);
        }
        if self.started.len() < rules {
            self.started.resize(rules, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.hits.iter_mut().for_each(|h| *h = 0);
            self.started.iter_mut().for_each(|h| *h = 0);
            self.stamp = 1;
        }
        self.marked.clear();
        self.candidates.clear();
    }

    #[inline]
    pub(crate) fn mark(&mut self, atom: u32) {
        let slot = &mut self.hits[atom as usize];
        if *slot != self.stamp {
            *slot = self.stamp;
            self.marked.push(atom);
        }
    }

    #[inline]
    pub(crate) fn held(&self, atom: u32) -> bool {
        self.hits[atom as usize] == self.stamp
    }

    /// The rules worth reading for this event, in rule order.
    pub(crate) fn candidates(&self) -> &[u32] {
        &self.candidates
    }
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
        rule_triggers: &[Option<Vec<u32>>],
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
        let mut next_gate = atoms.len() as u32;
        let mut names: Vec<Option<String>> = by_field.keys().cloned().collect();
        names.sort();
        for name in names {
            let ids = &by_field[&name];
            let mut folded: Vec<(Vec<u8>, Anchor, u32)> = Vec::new();
            let mut cased: Vec<(Vec<u8>, Anchor, u32)> = Vec::new();
            let mut regexes = Vec::new();
            let mut regex_atoms = Vec::new();
            let mut gated = Vec::new();
            let mut direct = Vec::new();
            for id in ids {
                match &atoms[*id as usize].test {
                    Test::Literal {
                        anchor,
                        cased: is_cased,
                        bytes,
                    } if !bytes.is_empty() => {
                        if *is_cased {
                            cased.push((bytes.clone(), *anchor, *id));
                        } else {
                            folded.push((fold_bytes(bytes), *anchor, *id));
                        }
                    }
                    Test::Regex(pattern) => {
                        let gate = gate::required_literals(pattern)
                            .and_then(|gate| Some((gate, regex::Regex::new(pattern).ok()?)));
                        match gate {
                            Some((literals, regex)) => {
                                // The gate literals are lowercase: they are looked for in
                                // the lowercased value, whatever the regex's own case rule.
                                let gate_id = next_gate;
                                next_gate += 1;
                                for literal in literals {
                                    folded.push((literal, Anchor::Contains, gate_id));
                                }
                                gated.push((regex, *id, gate_id));
                            }
                            None => {
                                regexes.push(pattern.clone());
                                regex_atoms.push(*id);
                            }
                        }
                    }
                    _ => direct.push(*id),
                }
            }
            let regexes = if regexes.is_empty() {
                None
            } else {
                // One by one: each regex then skips most values with its own literal
                // prefilter, where a set of many `.*`-laden patterns overflows its lazy DFA's
                // cache and crawls (measured: ~30 µs per command line for the `re` values on
                // CommandLine in SigmaHQ). Each pattern compiled alone when its rule was
                // compiled, so the set is only the fallback for a pattern that no longer does.
                let each: Vec<(regex::Regex, u32)> = regexes
                    .iter()
                    .zip(&regex_atoms)
                    .filter_map(|(p, id)| Some((regex::Regex::new(p).ok()?, *id)))
                    .collect();
                let regexes = if each.len() == regexes.len() {
                    Regexes::Each(each)
                } else {
                    match regex::RegexSetBuilder::new(&regexes)
                        .size_limit(256 << 20)
                        .dfa_size_limit(64 << 20)
                        .build()
                    {
                        Ok(set) => Regexes::Set(set),
                        Err(_) => Regexes::Each(each),
                    }
                };
                Some((regexes, regex_atoms))
            };
            let paths = match &name {
                Some(field) => mapping.field_paths(layout, field),
                None => Vec::new(),
            };
            let substrings_only = |list: &[(Vec<u8>, Anchor, u32)]| {
                list.iter()
                    .all(|(bytes, anchor, _)| *anchor == Anchor::Contains && !bytes.contains(&0))
            };
            let joinable = substrings_only(&folded)
                && substrings_only(&cased)
                && regexes.is_none()
                && gated.is_empty()
                && direct.is_empty();
            fields.push(FieldProgram {
                field: name,
                paths,
                folded: LiteralIndex::build(folded),
                cased: LiteralIndex::build(cased),
                regexes,
                gated,
                direct,
                joinable,
            });
        }
        let mut always = Vec::new();
        let mut triggers: HashMap<u32, Vec<u32>> = HashMap::new();
        for rule in &rules {
            match &rule_triggers[*rule as usize] {
                None => always.push(*rule),
                Some(atoms) => {
                    for atom in atoms {
                        triggers.entry(*atom).or_default().push(*rule);
                    }
                }
            }
        }
        let paths: Vec<Vec<String>> = fields.iter().map(|f| f.paths.clone()).collect();
        let resolver = Resolver::build(&paths);
        let direct_fields = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| f.field.is_some() && !f.direct.is_empty())
            .map(|(i, _)| i as u32)
            .collect();
        let keyword_field = fields.iter().position(|f| f.field.is_none());
        Program {
            rules,
            atom_space: next_gate as usize,
            fields,
            resolver,
            direct_fields,
            keyword_field,
            always,
            triggers,
        }
    }

    /// After [`Program::mark`]: gathers the rules whose trigger atoms held.
    pub(crate) fn start_rules(&self, scratch: &mut Scratch) {
        let stamp = scratch.stamp;
        scratch.candidates.extend_from_slice(&self.always);
        for atom in &scratch.marked {
            let Some(rules) = self.triggers.get(atom) else {
                continue;
            };
            for rule in rules {
                let slot = &mut scratch.started[*rule as usize];
                if *slot != stamp {
                    *slot = stamp;
                    scratch.candidates.push(*rule);
                }
            }
        }
        // `always` rules were not stamped; they cannot repeat since they have no triggers.
        scratch.candidates.sort_unstable();
    }

    /// Marks in `scratch` every atom of this program the event satisfies.
    pub(crate) fn mark(
        &self,
        event: &Event,
        atoms: &[Atom],
        mapping: &Mapping,
        layout: usize,
        scratch: &mut Scratch,
    ) {
        let subject = Subject {
            event,
            atoms,
            mapping,
            layout,
        };
        let found = self.resolver.resolve(&event.fields);
        let mut values: Vec<Cow<'_, str>> = Vec::new();
        let mut folded = std::mem::take(&mut scratch.folded);
        for &index in &found.present {
            let Some(value) = found.values[index as usize] else {
                continue;
            };
            if value.is_null() {
                // Null counts as absent; the pass over absent fields below tests it.
                continue;
            }
            values.clear();
            collect_scalars(value, &mut values, 2);
            let field = &self.fields[index as usize];
            self.scan(
                field,
                (true, false),
                &values,
                &mut folded,
                &subject,
                scratch,
            );
        }
        for &index in &self.direct_fields {
            let value = found.values[index as usize];
            if value.is_none_or(Value::is_null) {
                // Absent, or present holding null: `exists` tells the two apart.
                let null = value.is_some();
                let field = &self.fields[index as usize];
                self.scan(field, (false, null), &[], &mut folded, &subject, scratch);
            }
        }
        if let Some(index) = self.keyword_field {
            values.clear();
            for value in event.fields.values() {
                collect_strings(value, &mut values, 64);
            }
            let present = !values.is_empty();
            let field = &self.fields[index];
            let mut joined = std::mem::take(&mut scratch.joined);
            if field.joinable && values.len() > 1 {
                // One scan over every string, NUL-separated: no literal holds a NUL, so none
                // can be found across two strings.
                joined.clear();
                for value in &values {
                    joined.push_str(value);
                    joined.push('\0');
                }
                values.clear();
                values.push(Cow::Borrowed(joined.as_str()));
            }
            self.scan(
                field,
                (present, false),
                &values,
                &mut folded,
                &subject,
                scratch,
            );
            values.clear();
            scratch.joined = joined;
        }
        scratch.folded = folded;
    }

    /// Runs one field's automata, regexes and direct tests over its values.
    fn scan(
        &self,
        field: &FieldProgram,
        (present, null): (bool, bool),
        values: &[Cow<'_, str>],
        folded: &mut String,
        subject: &Subject<'_>,
        scratch: &mut Scratch,
    ) {
        for value in values {
            if let Some(literals) = &field.folded {
                fold_into(value, folded);
                literals.mark(folded.as_bytes(), scratch);
            }
            if let Some(literals) = &field.cased {
                literals.mark(value.as_bytes(), scratch);
            }
            match &field.regexes {
                Some((Regexes::Set(set), ids)) => {
                    for index in set.matches(value).iter() {
                        scratch.mark(ids[index]);
                    }
                }
                Some((Regexes::Each(each), _)) => {
                    for (regex, id) in each {
                        if regex.is_match(value) {
                            scratch.mark(*id);
                        }
                    }
                }
                None => {}
            }
            let ungated = !value.is_ascii();
            for (regex, atom, gate) in &field.gated {
                if (ungated || scratch.held(*gate)) && !scratch.held(*atom) && regex.is_match(value)
                {
                    scratch.mark(*atom);
                }
            }
        }
        for id in &field.direct {
            if direct_test(
                &subject.atoms[*id as usize].test,
                present,
                null,
                values,
                subject,
            ) {
                scratch.mark(*id);
            }
        }
    }
}

/// Lowercases `text` into `out` the way [`fold`] does, reusing `out`'s memory.
fn fold_into(text: &str, out: &mut String) {
    out.clear();
    if text.contains('\u{3a3}') {
        // A capital sigma lowercases by its context (final or not): leave it to `std`.
        out.push_str(&text.to_lowercase());
        return;
    }
    // Otherwise lowercasing is per character: ASCII runs in bulk, the rest one by one.
    let mut rest = text;
    while !rest.is_empty() {
        let ascii = rest
            .bytes()
            .position(|b| !b.is_ascii())
            .unwrap_or(rest.len());
        let start = out.len();
        out.push_str(&rest[..ascii]);
        out[start..].make_ascii_lowercase();
        rest = &rest[ascii..];
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_lowercase());
            rest = chars.as_str();
        }
    }
}

/// The values of a field: a scalar, or each scalar of a list. EVTX renders unnamed `<Data>`
/// elements as `{"#text": [..]}`, a list behind the text wrapper.
fn collect_scalars<'a>(value: &'a Value, out: &mut Vec<Cow<'a, str>>, depth: usize) {
    match unwrap_text(value) {
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
    subject: &Subject<'_>,
) -> bool {
    let Subject {
        event,
        mapping,
        layout,
        ..
    } = *subject;
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn folding_in_runs_equals_unicode_lowercasing(
            text in "(\\PC|[A-Za-z ]|[ΑΣΩσς]|\u{130}|\u{212a})*"
        ) {
            let mut out = String::from("leftover");
            fold_into(&text, &mut out);
            prop_assert_eq!(&out, &text.to_lowercase());
            prop_assert_eq!(fold(&text).into_owned(), text.to_lowercase());
        }
    }

    #[test]
    fn final_sigma_and_expanding_characters_fold_like_std() {
        for text in [
            "ΟΔΟΣ a",
            "ΟΔΟΣa",
            "İstanbul C:\\WINDOWS",
            "\u{212a}ELVIN",
            "MiXeD ÄÖÜ x",
        ] {
            let mut out = String::new();
            fold_into(text, &mut out);
            assert_eq!(out, text.to_lowercase(), "{text}");
        }
    }
}
