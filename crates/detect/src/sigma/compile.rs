//! Compiling one Sigma rule into a boolean tree over *atoms*: each atom is one test on one
//! field (`CommandLine` contains `whoami`, `DestinationIp` in `10.0.0.0/8`, …). Atoms are
//! shared across rules, so a program can find all literal atoms of a field in one automaton
//! pass and the rule trees only read bits.

use std::collections::{BTreeMap, HashMap};

use ipnet::IpNet;
use rsigma_parser::{
    ConditionExpr, Detection, DetectionItem, Detections, Modifier, Quantifier, SigmaValue,
};

use super::values::{self, MAX_VARIANTS, Piece, Pieces, Utf16};

/// Where a literal must sit in the field value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Anchor {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Compare {
    Eq,
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// One test on the value(s) of one field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Test {
    /// A literal found by the field's automaton; empty literals are tested directly.
    Literal {
        anchor: Anchor,
        cased: bool,
        bytes: Vec<u8>,
    },
    /// A regular expression (from `re`, or a wildcard pattern with inner `*`/`?`).
    Regex(String),
    /// The field is absent or null.
    Null,
    /// The field is present (true) or absent (false).
    Exists(bool),
    Number(Compare, f64),
    Cidr(IpNet),
    /// Compare with the value of another field of the same event.
    FieldRef {
        other: String,
        anchor: Anchor,
        cased: bool,
    },
    Time(TimePart, Compare, i64),
}

/// A test and the field it reads; `field == None` is a keyword search over every string.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Atom {
    pub field: Option<String>,
    pub test: Test,
}

/// A rule's condition over atoms.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Atom(u32),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    AtLeast(usize, Vec<Node>),
}

impl Node {
    pub(crate) fn eval(&self, hit: &dyn Fn(u32) -> bool) -> bool {
        match self {
            Node::Atom(atom) => hit(*atom),
            Node::And(nodes) => nodes.iter().all(|n| n.eval(hit)),
            Node::Or(nodes) => nodes.iter().any(|n| n.eval(hit)),
            Node::Not(node) => !node.eval(hit),
            Node::AtLeast(count, nodes) => {
                let mut seen = 0;
                for node in nodes {
                    if node.eval(hit) {
                        seen += 1;
                        if seen >= *count {
                            return true;
                        }
                    }
                }
                false
            }
        }
    }

    pub(crate) fn atoms(&self, out: &mut Vec<u32>) {
        match self {
            Node::Atom(atom) => out.push(*atom),
            Node::And(nodes) | Node::Or(nodes) | Node::AtLeast(_, nodes) => {
                nodes.iter().for_each(|n| n.atoms(out))
            }
            Node::Not(node) => node.atoms(out),
        }
    }
}

/// All atoms of a rule set, deduplicated.
#[derive(Default)]
pub(crate) struct AtomTable {
    pub atoms: Vec<Atom>,
    index: HashMap<String, u32>,
}

impl AtomTable {
    pub(crate) fn intern(&mut self, atom: Atom) -> u32 {
        let key = format!("{:?}|{:?}", atom.field, atom.test);
        if let Some(id) = self.index.get(&key) {
            return *id;
        }
        let id = self.atoms.len() as u32;
        self.atoms.push(atom);
        self.index.insert(key, id);
        id
    }
}

/// Compiles a detection section's conditions (several conditions are alternatives).
pub(crate) fn compile_detections(
    detections: &Detections,
    table: &mut AtomTable,
    placeholders: &BTreeMap<String, Vec<String>>,
) -> Result<Node, String> {
    if detections.conditions.is_empty() {
        return Err("detection has no condition".into());
    }
    let mut named = HashMap::new();
    let mut names: Vec<&String> = detections.named.keys().collect();
    names.sort();
    for name in names {
        let detection = &detections.named[name];
        let node = compile_detection(detection, table, placeholders)
            .map_err(|error| format!("detection {name}: {error}"))?;
        named.insert(name.clone(), node);
    }
    let mut alternatives = Vec::new();
    for condition in &detections.conditions {
        alternatives.push(compile_condition(condition, &named)?);
    }
    Ok(if alternatives.len() == 1 {
        alternatives.remove(0)
    } else {
        Node::Or(alternatives)
    })
}

fn compile_condition(expr: &ConditionExpr, named: &HashMap<String, Node>) -> Result<Node, String> {
    Ok(match expr {
        ConditionExpr::And(parts) => Node::And(
            parts
                .iter()
                .map(|p| compile_condition(p, named))
                .collect::<Result<_, _>>()?,
        ),
        ConditionExpr::Or(parts) => Node::Or(
            parts
                .iter()
                .map(|p| compile_condition(p, named))
                .collect::<Result<_, _>>()?,
        ),
        ConditionExpr::Not(inner) => Node::Not(Box::new(compile_condition(inner, named)?)),
        ConditionExpr::Identifier(name) => named
            .get(name)
            .cloned()
            .ok_or_else(|| format!("condition names unknown detection {name}"))?,
        ConditionExpr::Selector {
            quantifier,
            pattern,
        } => {
            let mut keys: Vec<&String> = named
                .keys()
                .filter(|name| pattern.matches_detection_name(name))
                .collect();
            keys.sort();
            if keys.is_empty() {
                return Err(format!("condition selector {pattern} matches no detection"));
            }
            let nodes: Vec<Node> = keys.iter().map(|k| named[*k].clone()).collect();
            match quantifier {
                Quantifier::Any => Node::Or(nodes),
                Quantifier::All => Node::And(nodes),
                Quantifier::Count(count) => Node::AtLeast(*count as usize, nodes),
            }
        }
    })
}

fn compile_detection(
    detection: &Detection,
    table: &mut AtomTable,
    placeholders: &BTreeMap<String, Vec<String>>,
) -> Result<Node, String> {
    Ok(match detection {
        Detection::AllOf(items) => Node::And(
            items
                .iter()
                .map(|item| compile_item(item, table, placeholders))
                .collect::<Result<_, _>>()?,
        ),
        Detection::AnyOf(subs) => Node::Or(
            subs.iter()
                .map(|d| compile_detection(d, table, placeholders))
                .collect::<Result<_, _>>()?,
        ),
        Detection::And(subs) => Node::And(
            subs.iter()
                .map(|d| compile_detection(d, table, placeholders))
                .collect::<Result<_, _>>()?,
        ),
        Detection::Keywords(values) => {
            let item = DetectionItem {
                field: rsigma_parser::FieldSpec::new(None, Vec::new()),
                values: values.clone(),
            };
            compile_item(&item, table, placeholders)?
        }
        Detection::ArrayMatch { field, .. } => {
            return Err(format!(
                "array matching on {field} (sigma-version 3) is not supported"
            ));
        }
        Detection::Conditional { .. } => {
            return Err("array matching blocks with conditions are not supported".into());
        }
    })
}

/// The modifiers of one item, read once.
#[derive(Default)]
struct Mods {
    anchor: Option<Anchor>,
    all: bool,
    cased: bool,
    re: bool,
    re_flags: String,
    cidr: bool,
    exists: bool,
    expand: bool,
    fieldref: bool,
    compare: Option<Compare>,
    neq: bool,
    time: Option<TimePart>,
    encodings: Vec<Modifier>,
    /// Field-less values are searched for anywhere in a string, not compared whole.
    keyword: bool,
}

fn read_modifiers(modifiers: &[Modifier]) -> Result<Mods, String> {
    let mut mods = Mods::default();
    for modifier in modifiers {
        match modifier {
            Modifier::Contains => mods.anchor = Some(Anchor::Contains),
            Modifier::StartsWith => mods.anchor = Some(Anchor::StartsWith),
            Modifier::EndsWith => mods.anchor = Some(Anchor::EndsWith),
            Modifier::All => mods.all = true,
            Modifier::Cased => mods.cased = true,
            Modifier::Re => mods.re = true,
            Modifier::IgnoreCase => mods.re_flags.push('i'),
            Modifier::Multiline => mods.re_flags.push('m'),
            Modifier::DotAll => mods.re_flags.push('s'),
            Modifier::Cidr => mods.cidr = true,
            Modifier::Exists => mods.exists = true,
            Modifier::Expand => mods.expand = true,
            Modifier::FieldRef => mods.fieldref = true,
            Modifier::Gt => mods.compare = Some(Compare::Gt),
            Modifier::Gte => mods.compare = Some(Compare::Gte),
            Modifier::Lt => mods.compare = Some(Compare::Lt),
            Modifier::Lte => mods.compare = Some(Compare::Lte),
            Modifier::Neq => mods.neq = true,
            Modifier::Minute => mods.time = Some(TimePart::Minute),
            Modifier::Hour => mods.time = Some(TimePart::Hour),
            Modifier::Day => mods.time = Some(TimePart::Day),
            Modifier::Week => mods.time = Some(TimePart::Week),
            Modifier::Month => mods.time = Some(TimePart::Month),
            Modifier::Year => mods.time = Some(TimePart::Year),
            Modifier::Base64
            | Modifier::Base64Offset
            | Modifier::Wide
            | Modifier::Utf16be
            | Modifier::Utf16
            | Modifier::WindAsh => mods.encodings.push(*modifier),
        }
    }
    if !mods.re_flags.is_empty() && !mods.re {
        return Err("regex flags i/m/s need the re modifier".into());
    }
    Ok(mods)
}

fn compile_item(
    item: &DetectionItem,
    table: &mut AtomTable,
    placeholders: &BTreeMap<String, Vec<String>>,
) -> Result<Node, String> {
    let mut mods = read_modifiers(&item.field.modifiers)?;
    mods.keyword = item.field.name.is_none();
    let field = item.field.name.clone();
    if item.values.is_empty() {
        return Err("detection item has no values".into());
    }
    let mut per_value = Vec::new();
    for value in &item.values {
        let tests = value_tests(value, &mods, placeholders)?;
        let mut alternatives: Vec<Node> = tests
            .into_iter()
            .map(|test| {
                Node::Atom(table.intern(Atom {
                    field: field.clone(),
                    test,
                }))
            })
            .collect();
        per_value.push(if alternatives.len() == 1 {
            alternatives.remove(0)
        } else {
            Node::Or(alternatives)
        });
    }
    let node = match (per_value.len(), mods.all) {
        (1, _) => per_value.remove(0),
        (_, true) => Node::And(per_value),
        (_, false) => Node::Or(per_value),
    };
    // neq negates the whole item, as pySigma reads it: `User|neq: [a, b]` holds when User
    // is neither a nor b, and also when the event has no User at all.
    Ok(if mods.neq {
        Node::Not(Box::new(node))
    } else {
        node
    })
}

fn number_of(value: &SigmaValue, what: &str) -> Result<f64, String> {
    match value {
        SigmaValue::Integer(n) => Ok(*n as f64),
        SigmaValue::Float(f) => Ok(*f),
        SigmaValue::String(s) => s
            .original
            .trim()
            .parse()
            .map_err(|_| format!("{what} needs a number, got {:?}", s.original)),
        other => Err(format!("{what} needs a number, got {other}")),
    }
}

/// The alternative tests one value stands for (several after windash/base64offset/expand).
fn value_tests(
    value: &SigmaValue,
    mods: &Mods,
    placeholders: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<Test>, String> {
    if mods.exists {
        return match value {
            SigmaValue::Bool(flag) => Ok(vec![Test::Exists(*flag)]),
            SigmaValue::String(s) if s.original == "true" || s.original == "false" => {
                Ok(vec![Test::Exists(s.original == "true")])
            }
            other => Err(format!("exists needs true or false, got {other}")),
        };
    }
    if matches!(value, SigmaValue::Null) {
        return Ok(vec![Test::Null]);
    }
    if let Some(part) = mods.time {
        let number = number_of(value, "time-part modifier")?;
        return Ok(vec![Test::Time(
            part,
            mods.compare.unwrap_or(Compare::Eq),
            number as i64,
        )]);
    }
    if let Some(compare) = mods.compare {
        return Ok(vec![Test::Number(
            compare,
            number_of(value, "gt/gte/lt/lte")?,
        )]);
    }
    if mods.cidr {
        let SigmaValue::String(text) = value else {
            return Err(format!("cidr needs a network, got {value}"));
        };
        let net: IpNet = text
            .original
            .trim()
            .parse()
            .map_err(|_| format!("cidr: {:?} is not a network", text.original))?;
        return Ok(vec![Test::Cidr(net)]);
    }
    if mods.re {
        let SigmaValue::String(text) = value else {
            return Err(format!("re needs a string, got {value}"));
        };
        let flags = if mods.re_flags.is_empty() {
            String::new()
        } else {
            format!("(?{})", mods.re_flags)
        };
        let pattern = format!("{flags}{}", text.original);
        regex::Regex::new(&pattern).map_err(|error| format!("re {:?}: {error}", text.original))?;
        return Ok(vec![Test::Regex(pattern)]);
    }
    if mods.fieldref {
        let SigmaValue::String(text) = value else {
            return Err(format!("fieldref needs a field name, got {value}"));
        };
        return Ok(vec![Test::FieldRef {
            other: text.original.clone(),
            anchor: mods.anchor.unwrap_or(Anchor::Equals),
            cased: mods.cased,
        }]);
    }
    // String matching: build the literal variants, then anchor them.
    let mut variants: Vec<Pieces> = match value {
        SigmaValue::String(text) if mods.expand => values::expand(&text.original, placeholders)?
            .iter()
            .map(|expanded| values::pieces_of(&rsigma_parser::SigmaString::new(expanded)))
            .collect(),
        SigmaValue::String(text) => vec![values::pieces_of(text)],
        SigmaValue::Integer(n) => vec![values::literal(&n.to_string())],
        SigmaValue::Float(f) => vec![values::literal(&f.to_string())],
        SigmaValue::Bool(b) => vec![values::literal(if *b { "true" } else { "false" })],
        SigmaValue::Null => unreachable_null(),
    };
    for encoding in &mods.encodings {
        let mut next = Vec::new();
        for variant in &variants {
            match encoding {
                Modifier::Base64 => next.push(values::base64(variant)?),
                Modifier::Base64Offset => next.extend(values::base64_offsets(variant)?),
                Modifier::Wide => next.push(values::utf16(variant, Utf16::Le)?),
                Modifier::Utf16be => next.push(values::utf16(variant, Utf16::Be)?),
                Modifier::Utf16 => next.push(values::utf16(variant, Utf16::Bom)?),
                Modifier::WindAsh => next.extend(values::windash(variant)?),
                _ => next.push(variant.clone()),
            }
        }
        if next.len() > MAX_VARIANTS {
            return Err(format!("value {value} expands into too many variants"));
        }
        variants = next;
    }
    variants
        .into_iter()
        .map(|pieces| {
            let default = if mods.keyword {
                Anchor::Contains
            } else {
                Anchor::Equals
            };
            string_test(pieces, mods.anchor.unwrap_or(default), mods.cased)
        })
        .collect()
}

fn unreachable_null() -> Vec<Pieces> {
    // Null was answered before string matching; an empty list keeps this total.
    Vec::new()
}

/// Turns pieces and an anchor into a literal test when the wildcards allow, else a regex.
fn string_test(mut pieces: Pieces, anchor: Anchor, cased: bool) -> Result<Test, String> {
    let mut leading = matches!(anchor, Anchor::Contains | Anchor::EndsWith);
    let mut trailing = matches!(anchor, Anchor::Contains | Anchor::StartsWith);
    while pieces.first() == Some(&Piece::Star) {
        pieces.remove(0);
        leading = true;
    }
    while pieces.last() == Some(&Piece::Star) {
        pieces.pop();
        trailing = true;
    }
    let anchor = match (leading, trailing) {
        (false, false) => Anchor::Equals,
        (true, true) => Anchor::Contains,
        (false, true) => Anchor::StartsWith,
        (true, false) => Anchor::EndsWith,
    };
    match pieces.as_slice() {
        [] => Ok(Test::Literal {
            anchor,
            cased,
            bytes: Vec::new(),
        }),
        [Piece::Bytes(bytes)] => Ok(Test::Literal {
            anchor,
            cased,
            bytes: bytes.clone(),
        }),
        _ => {
            let mut pattern = String::from(if cased { "(?s)" } else { "(?si)" });
            if !leading {
                pattern.push('^');
            }
            for piece in &pieces {
                match piece {
                    Piece::Bytes(bytes) => {
                        let text = std::str::from_utf8(bytes).map_err(|_| {
                            "an encoded value with wildcards is not text".to_string()
                        })?;
                        pattern.push_str(&regex::escape(text));
                    }
                    Piece::Star => pattern.push_str(".*"),
                    Piece::One => pattern.push('.'),
                }
            }
            if !trailing {
                pattern.push('$');
            }
            Ok(Test::Regex(pattern))
        }
    }
}
